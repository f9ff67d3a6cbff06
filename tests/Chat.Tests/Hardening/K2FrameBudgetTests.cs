using System.Net.WebSockets;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17: every frame type is rate-limited per socket (Chat:Gateway:FrameLimits). Over budget a frame is dropped;
/// the answer is one rate_limited error with retry_after_ms per interval (typing is dropped silently), and the socket
/// stays open. The server's clock stands still unless the test moves it, so "one per interval" is exact.
/// </summary>
public sealed class K2FrameBudgetTests
{
    [Fact]
    public async Task Over_budget_frames_are_dropped_with_one_rate_limited_answer_per_interval_and_the_budget_refills()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(clock),
            ("Chat:Gateway:FrameLimits:PresencePerMinute", "5"), ("Chat:Gateway:FrameLimits:TypingPerMinute", "2"));
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);

        for (int i = 0; i < 50; i++) await sa.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { b.UserId } });
        var frames = await sa.FenceAsync();
        var errors = frames.OfType("error").ToList();
        var limited = Assert.Single(errors); // 45 frames over budget, one answer
        Assert.Equal("rate_limited", limited.Str("code"));
        Assert.True(limited.Long("retry_after_ms") > 0, limited.ToString());
        Assert.Equal(WebSocketState.Open, sa.State);

        // Typing over budget: dropped without an answer.
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        for (int i = 0; i < 20; i++) await sa.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        (await sa.FenceAsync()).AssertNone("error");

        // A minute later the budget is full again: a subscribe is handled, not refused.
        clock.Advance(TimeSpan.FromSeconds(61));
        await sa.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { b.UserId } });
        (await sa.FenceAsync()).AssertNone("error");
        Assert.Equal(WebSocketState.Open, sa.State);
    }

    [Fact]
    public async Task Frames_without_a_known_type_share_a_budget_so_their_error_answers_stay_bounded()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(clock), ("Chat:Gateway:FrameLimits:OtherPerMinute", "3"));
        var (_, a) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);

        for (int i = 0; i < 30; i++) await sa.SendRawAsync(i % 2 == 0 ? "not json" : "{\"type\":\"no_such_type\"}");
        var errors = (await sa.FenceAsync()).OfType("error").ToList();
        Assert.Equal(4, errors.Count); // three answered as usual, then one rate_limited, the rest dropped
        Assert.Equal("rate_limited", errors[^1].Str("code"));
        Assert.Equal(WebSocketState.Open, sa.State);
    }
}
