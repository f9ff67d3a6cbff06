using Chat.Core;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Core;

public sealed class RecentMessagesTests
{
    private static RecentMessages NewRecent() => new(Options.Create(new ChatOptions()), new ChatMetrics());
    private static ChatId C(string id) => new(id);
    private static UserId U(string id) => new(id);

    [Fact]
    public void Senders_are_answered_from_memory_only_for_a_contiguous_known_range()
    {
        var recent = NewRecent();
        recent.Add("m1", C("c"), 1, U("alice"));
        recent.Add("m2", C("c"), 2, U("bob"));
        recent.Add("m3", C("c"), 3, U("alice"));

        Assert.Equal([U("alice")], recent.Senders(C("c"), 0, 3, U("bob"))!);
        Assert.Equal([U("bob")], recent.Senders(C("c"), 1, 2, U("alice"))!);
        Assert.Empty(recent.Senders(C("c"), 2, 3, U("alice"))!);
        Assert.Null(recent.Senders(C("c"), 0, 4, U("bob")));          // seq 4 not seen here
        Assert.Null(recent.Senders(C("other"), 0, 1, U("bob")));      // chat not seen here
        Assert.True(recent.TryGet("m2", out var e) && e.Seq == 2 && e.ChatId == C("c"));

        recent.Add("m6", C("c"), 6, U("carol"));                       // another node wrote 4 and 5: the ring restarts
        Assert.Null(recent.Senders(C("c"), 3, 6, U("bob")));
        Assert.Equal([U("carol")], recent.Senders(C("c"), 5, 6, U("bob"))!);
    }

    [Fact]
    public void Ranges_older_than_the_ring_fall_back_to_the_store()
    {
        var recent = NewRecent();
        for (int seq = 1; seq <= 100; seq++) recent.Add($"m{seq}", C("c"), seq, U(seq % 2 == 0 ? "a" : "b"));
        Assert.Null(recent.Senders(C("c"), 0, 100, U("x")));
        Assert.Equal(2, recent.Senders(C("c"), 90, 100, U("x"))!.Count);
    }
}
