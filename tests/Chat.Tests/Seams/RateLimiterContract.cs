using Chat.Backplane.Redis;
using Chat.Core;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Chat.Tests.Seams;

/// <summary>
/// What every rate limiter promises (src/Chat.Core/Messaging/RateLimiter.cs): a token bucket per user whose burst is
/// the per-minute rate, refilled continuously; a refusal says how long until the next send is allowed; 0 disables.
/// <see cref="OpenLimiterAsync"/> may be called more than once per test with the same rate: another node's instance
/// over the same buckets. Time passes through <see cref="PassAsync"/>: a fake clock where the implementation takes one,
/// real (short) waits where the clock is the server's, so the rates below keep every real wait under a few seconds.
/// </summary>
public abstract class RateLimiterContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected abstract Task<IRateLimiter> OpenLimiterAsync(int messagesPerMinute);

    /// <summary>Lets this much time pass for every limiter of the test.</summary>
    protected abstract Task PassAsync(TimeSpan time);

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => CleanUpAsync();

    // ---- the helpers that know the shapes of ids (adapt here when those signatures change)

    private static string NewUser() => Ids.NewId();

    /// <summary>
    /// Tries to send <paramref name="attempts"/> times at once and counts the sends allowed. All at once, so that where
    /// the clock is real the whole burst takes a small fraction of a token's interval (pipelined to Redis).
    /// </summary>
    private static async Task<int> SpendAsync(IRateLimiter limiter, string user, int attempts)
    {
        var decisions = await Task.WhenAll(Enumerable.Range(0, attempts).Select(_ => limiter.TryAcquireAsync(user, None).AsTask()));
        return decisions.Count(d => d.Allowed);
    }

    // ---- burst and refusal

    [SeamFact]
    public async Task A_burst_up_to_the_rate_is_allowed_then_sends_are_refused_with_the_wait_for_the_next_token()
    {
        var limiter = await OpenLimiterAsync(6); // one token every 10 s
        string user = NewUser();
        for (int i = 0; i < 6; i++) Assert.Equal(new RateDecision(true, 0), await limiter.TryAcquireAsync(user, None));

        var refused = await limiter.TryAcquireAsync(user, None);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfterMs, 9_000, 10_000);
        var again = await limiter.TryAcquireAsync(user, None);
        Assert.False(again.Allowed);
        Assert.InRange(again.RetryAfterMs, 1, refused.RetryAfterMs); // refusals spend nothing: the wait only shrinks
    }

    [SeamFact]
    public async Task The_bucket_refills_continuously_one_token_per_interval()
    {
        // One token every 2 s: wide enough that spending the burst on a loaded CI box (real time on Redis) does not
        // already earn a token back.
        var limiter = await OpenLimiterAsync(30);
        string user = NewUser();
        Assert.Equal(30, await SpendAsync(limiter, user, 30));
        var refused = await limiter.TryAcquireAsync(user, None);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfterMs, 1, 2_000);

        await PassAsync(TimeSpan.FromMilliseconds(refused.RetryAfterMs + 20));
        Assert.True((await limiter.TryAcquireAsync(user, None)).Allowed);
        var next = await limiter.TryAcquireAsync(user, None); // that was the one token
        Assert.False(next.Allowed);
        Assert.InRange(next.RetryAfterMs, 1_000, 2_000); // nearly a whole interval

        await PassAsync(TimeSpan.FromMilliseconds(4_400)); // two more tokens, not three
        Assert.Equal(2, await SpendAsync(limiter, user, 3));
    }

    [SeamFact]
    public async Task An_idle_bucket_refills_to_the_burst_and_no_further()
    {
        var limiter = await OpenLimiterAsync(60); // one token a second
        string user = NewUser();
        Assert.True((await limiter.TryAcquireAsync(user, None)).Allowed);
        await PassAsync(TimeSpan.FromMilliseconds(2_500)); // uncapped this would be 61.5 tokens
        Assert.Equal(60, await SpendAsync(limiter, user, 62));
    }

    // ---- configuration and isolation

    [SeamFact]
    public async Task A_rate_of_zero_disables_the_limit()
    {
        var limiter = await OpenLimiterAsync(0);
        string user = NewUser();
        for (int i = 0; i < 500; i++) Assert.Equal(new RateDecision(true, 0), await limiter.TryAcquireAsync(user, None));
    }

    [SeamFact]
    public async Task Users_have_buckets_of_their_own()
    {
        var limiter = await OpenLimiterAsync(6);
        string spender = NewUser(), other = NewUser();
        Assert.Equal(6, await SpendAsync(limiter, spender, 8));
        Assert.Equal(6, await SpendAsync(limiter, other, 8));
        Assert.False((await limiter.TryAcquireAsync(spender, None)).Allowed);
    }

    [SeamFact]
    public async Task Every_node_spends_from_the_same_bucket_of_a_user()
    {
        var a = await OpenLimiterAsync(6);
        var b = await OpenLimiterAsync(6);
        string user = NewUser();
        int allowed = 0;
        for (int i = 0; i < 4; i++)
        {
            if ((await a.TryAcquireAsync(user, None)).Allowed) allowed++;
            if ((await b.TryAcquireAsync(user, None)).Allowed) allowed++;
        }
        Assert.Equal(6, allowed); // the burst once, across both
        Assert.False((await b.TryAcquireAsync(user, None)).Allowed);
    }
}

/// <summary>The in-process limiter on a fake clock: no real waiting; "another node" is the same instance.</summary>
public sealed class LocalRateLimiterContractTests : RateLimiterContract
{
    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<int, LocalRateLimiter> _limiters = [];

    protected override Task<IRateLimiter> OpenLimiterAsync(int messagesPerMinute)
    {
        if (!_limiters.TryGetValue(messagesPerMinute, out var limiter))
        {
            var options = Options.Create(new ChatOptions { RateLimit = { MessagesPerMinute = messagesPerMinute } });
            _limiters[messagesPerMinute] = limiter = new LocalRateLimiter(options, _time);
        }
        return Task.FromResult<IRateLimiter>(limiter);
    }

    protected override Task PassAsync(TimeSpan time)
    {
        _time.Advance(time);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The Redis limiter (CHAT_REDIS), timed by the Redis server's clock, so time passes for real; each instance a node
/// with its own connection, all under this test's key prefix.
/// </summary>
[RequiresRedis]
public sealed class RedisRateLimiterContractTests : RateLimiterContract
{
    private readonly string _prefix = RedisTestServer.NewPrefix("rate");
    private readonly List<RedisConnection> _connections = [];

    protected override Task<IRateLimiter> OpenLimiterAsync(int messagesPerMinute)
    {
        var connection = RedisTestServer.Connect(new RedisBackplaneOptions { KeyPrefix = _prefix });
        _connections.Add(connection);
        var options = Options.Create(new ChatOptions { RateLimit = { MessagesPerMinute = messagesPerMinute } });
        return Task.FromResult<IRateLimiter>(new RedisRateLimiter(connection, options, TimeProvider.System, NullLogger<RedisRateLimiter>.Instance));
    }

    protected override Task PassAsync(TimeSpan time) => Task.Delay(time);

    protected override async Task CleanUpAsync()
    {
        if (_connections.Count > 0) await RedisTestServer.DeleteKeysAsync(_connections[0], _prefix);
        foreach (var c in _connections) c.Dispose();
    }
}
