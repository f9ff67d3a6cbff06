using Chat.Core;
using Chat.Core.Diagnostics;
using Chat.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Core;

public sealed class RecentMessagesTests
{
    private static RecentMessages NewRecent() => new(Options.Create(new ChatOptions()), new ChatMetrics());

    [Fact]
    public void Senders_are_answered_from_memory_only_for_a_contiguous_known_range()
    {
        var recent = NewRecent();
        recent.Add("m1", "c", 1, "alice");
        recent.Add("m2", "c", 2, "bob");
        recent.Add("m3", "c", 3, "alice");

        Assert.Equal(["alice"], recent.Senders("c", 0, 3, "bob")!);
        Assert.Equal(["bob"], recent.Senders("c", 1, 2, "alice")!);
        Assert.Empty(recent.Senders("c", 2, 3, "alice")!);
        Assert.Null(recent.Senders("c", 0, 4, "bob"));          // seq 4 not seen here
        Assert.Null(recent.Senders("other", 0, 1, "bob"));      // chat not seen here
        Assert.True(recent.TryGet("m2", out var e) && e.Seq == 2 && e.ChatId == "c");

        recent.Add("m6", "c", 6, "carol");                       // another node wrote 4 and 5: the ring restarts
        Assert.Null(recent.Senders("c", 3, 6, "bob"));
        Assert.Equal(["carol"], recent.Senders("c", 5, 6, "bob")!);
    }

    [Fact]
    public void Ranges_older_than_the_ring_fall_back_to_the_store()
    {
        var recent = NewRecent();
        for (int seq = 1; seq <= 100; seq++) recent.Add($"m{seq}", "c", seq, seq % 2 == 0 ? "a" : "b");
        Assert.Null(recent.Senders("c", 0, 100, "x"));
        Assert.Equal(2, recent.Senders("c", 90, 100, "x")!.Count);
    }
}
