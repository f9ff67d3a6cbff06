using Chat.Backplane.Redis;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Presence;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Seams;

/// <summary>
/// What every presence store promises (src/Chat.Core/Presence/PresenceStore.cs): per-user facts over all of the user's
/// devices, on every node alike. <see cref="OpenStoreAsync"/> may be called more than once per test for another node's
/// instance over the same facts (the in-process store: the same instance, since it serves one node).
/// Times passed in are the real clock's, since a store with entry TTLs measures them against its own clock.
/// </summary>
public abstract class PresenceStoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private IPresenceStore _store = null!;

    /// <summary>A store instance whose device entries live <paramref name="entryTtl"/> without a refresh (where it has TTLs).</summary>
    protected abstract Task<IPresenceStore> OpenStoreAsync(TimeSpan entryTtl);

    /// <summary>Whether device entries expire without a refresh; false where liveness is the socket itself (only a removal ends a device).</summary>
    protected abstract bool HasEntryTtl { get; }

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await OpenStoreAsync(TimeSpan.FromSeconds(45));

    public Task DisposeAsync() => CleanUpAsync();

    // ---- the helpers that know the shapes of ids (adapt here when those signatures change)

    private static string NewUser() => Ids.NewId();

    private static string NewDevice() => Ids.NewId();

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static (int Connected, int Active) Counts(PresenceFacts f) => (f.Connected, f.Active);

    private async Task<PresenceFacts> GetAsync(string user, IPresenceStore? store = null) => (await (store ?? _store).GetAsync([user], None)).Single();

    // ---- online / offline across devices

    [SeamFact]
    public async Task A_user_nobody_has_seen_is_offline_with_no_last_seen()
    {
        string user = NewUser();
        Assert.Equal(new PresenceFacts(user, 0, 0, 0, PresenceStatus.Offline), await GetAsync(user));
    }

    [SeamFact]
    public async Task Devices_count_as_connected_and_active_until_they_go_away_or_leave()
    {
        string user = NewUser(), phone = NewDevice(), laptop = NewDevice();
        long t1 = Now();
        var f = await _store.SetDeviceAsync(user, phone, away: false, t1, None);
        Assert.Equal(new PresenceFacts(user, 1, 1, t1, PresenceStatus.Offline), f);

        f = await _store.SetDeviceAsync(user, laptop, away: true, t1 + 1, None);
        Assert.Equal((2, 1), Counts(f));
        Assert.Equal(t1 + 1, f.LastSeen);

        // Setting a device again updates it; it does not count twice.
        f = await _store.SetDeviceAsync(user, laptop, away: false, t1 + 2, None);
        Assert.Equal((2, 2), Counts(f));
        f = await _store.SetDeviceAsync(user, phone, away: true, t1 + 3, None);
        Assert.Equal((2, 1), Counts(f));
        Assert.Equal(f, await GetAsync(user));

        f = await _store.RemoveDeviceAsync(user, laptop, t1 + 4, None);
        Assert.Equal((1, 0), Counts(f));
        Assert.Equal(t1 + 4, f.LastSeen);
        Assert.Equal(f, await GetAsync(user));
    }

    [SeamFact]
    public async Task When_the_last_device_leaves_the_user_is_offline_with_last_seen_and_the_status_they_had()
    {
        string user = NewUser(), a = NewDevice(), b = NewDevice();
        long t = Now();
        await _store.SetDeviceAsync(user, a, away: false, t, None);
        await _store.SetDeviceAsync(user, b, away: true, t, None);
        await _store.RemoveDeviceAsync(user, a, t + 10, None);
        var f = await _store.RemoveDeviceAsync(user, b, t + 20, None);
        Assert.Equal(new PresenceFacts(user, 0, 0, t + 20, PresenceStatus.Away), f); // only the away device was left
        Assert.Equal(f, await GetAsync(user));

        // Back with an active device, then gone: online was the last status.
        await _store.SetDeviceAsync(user, a, away: false, t + 30, None);
        Assert.Equal((1, 1), Counts(await GetAsync(user)));
        f = await _store.RemoveDeviceAsync(user, a, t + 40, None);
        Assert.Equal(new PresenceFacts(user, 0, 0, t + 40, PresenceStatus.Online), f);
    }

    [SeamFact]
    public async Task Removing_a_device_that_is_not_there_keeps_last_seen()
    {
        string user = NewUser(), a = NewDevice();
        long t = Now();
        await _store.SetDeviceAsync(user, a, away: false, t, None);
        var f = await _store.RemoveDeviceAsync(user, NewDevice(), t + 50, None);
        Assert.Equal((1, 1, t), (f.Connected, f.Active, f.LastSeen));
        await _store.RemoveDeviceAsync(user, a, t + 60, None);
        f = await _store.RemoveDeviceAsync(user, a, t + 70, None); // twice
        Assert.Equal((0, t + 60), (f.Connected, f.LastSeen));

        string stranger = NewUser();
        f = await _store.RemoveDeviceAsync(stranger, NewDevice(), t, None);
        Assert.Equal(new PresenceFacts(stranger, 0, 0, 0, PresenceStatus.Offline), f);
    }

    [SeamFact]
    public async Task Several_users_are_read_at_once_in_the_order_asked_and_do_not_mix()
    {
        string a = NewUser(), b = NewUser(), c = NewUser(), unknown = NewUser();
        long t = Now();
        await _store.SetDeviceAsync(a, NewDevice(), away: false, t, None);
        await _store.SetDeviceAsync(a, NewDevice(), away: true, t, None);
        string bDevice = NewDevice();
        await _store.SetDeviceAsync(b, bDevice, away: true, t + 1, None);
        await _store.RemoveDeviceAsync(b, bDevice, t + 2, None);
        await _store.SetDeviceAsync(c, NewDevice(), away: false, t + 3, None);

        var all = await _store.GetAsync([c, unknown, a, b], None);
        Assert.Equal([c, unknown, a, b], all.Select(f => f.UserId));
        Assert.Equal((1, 1, t + 3), (all[0].Connected, all[0].Active, all[0].LastSeen));
        Assert.Equal(new PresenceFacts(unknown, 0, 0, 0, PresenceStatus.Offline), all[1]);
        Assert.Equal((2, 1, t), (all[2].Connected, all[2].Active, all[2].LastSeen));
        Assert.Equal(new PresenceFacts(b, 0, 0, t + 2, PresenceStatus.Away), all[3]);
        Assert.Empty(await _store.GetAsync([], None));
    }

    [SeamFact]
    public async Task Every_node_sees_the_devices_of_every_node()
    {
        var other = await OpenStoreAsync(TimeSpan.FromSeconds(45));
        string user = NewUser();
        long t = Now();
        await _store.SetDeviceAsync(user, NewDevice(), away: false, t, None);
        string there = NewDevice();
        var f = await other.SetDeviceAsync(user, there, away: true, t + 1, None);
        Assert.Equal((2, 1), Counts(f));
        Assert.Equal(f, await GetAsync(user));
        await _store.RemoveDeviceAsync(user, there, t + 2, None);
        var seenThere = await GetAsync(user, other);
        Assert.Equal((1, 1, t + 2), (seenThere.Connected, seenThere.Active, seenThere.LastSeen));
    }

    // ---- liveness

    [SeamFact]
    public async Task Refreshing_keeps_devices_and_never_creates_one()
    {
        string user = NewUser(), kept = NewDevice(), stranger = NewUser();
        long t = Now();
        await _store.SetDeviceAsync(user, kept, away: true, t, None);
        await _store.RefreshAsync([(user, kept), (user, NewDevice()), (stranger, NewDevice())], None);
        await _store.RefreshAsync([], None);
        Assert.Equal(new PresenceFacts(user, 1, 0, t, PresenceStatus.Offline), await GetAsync(user)); // refresh is not activity
        Assert.Equal(new PresenceFacts(stranger, 0, 0, 0, PresenceStatus.Offline), await GetAsync(stranger));
    }

    [SeamFact]
    public async Task A_device_that_is_not_refreshed_stops_counting_after_the_entry_ttl_where_there_is_one()
    {
        var ttl = TimeSpan.FromSeconds(1.5);
        var store = await OpenStoreAsync(ttl);
        string user = NewUser(), kept = NewDevice(), lost = NewDevice();
        long t = Now();
        await store.SetDeviceAsync(user, kept, away: false, t, None);
        await store.SetDeviceAsync(user, lost, away: true, t, None);
        if (!HasEntryTtl)
        {
            // Liveness is the socket: only a removal ends a device.
            Assert.Equal((2, 1), Counts(await GetAsync(user, store)));
            return;
        }

        // Only "kept" is refreshed (its node is alive), until "lost" is well past its TTL.
        var until = DateTime.UtcNow + ttl * 1.6;
        while (DateTime.UtcNow < until)
        {
            await store.RefreshAsync([(user, kept)], None);
            await Task.Delay(ttl / 6);
        }
        var f = await GetAsync(user, store);
        Assert.Equal((1, 1), Counts(f));

        // Now nothing is refreshed: the user goes offline with the status and time of the last refresh.
        await Eventually.TrueAsync(async () => (await GetAsync(user, store)).Connected == 0, "the kept device expired too");
        f = await GetAsync(user, store);
        Assert.Equal(PresenceStatus.Online, f.LastStatus);
        // The kept device was refreshed past the TTL of the lost one; it expired a TTL after its last refresh.
        Assert.InRange(f.LastSeen, t + (long)ttl.TotalMilliseconds, Now() - (long)ttl.TotalMilliseconds);
    }

    // ---- announcements

    [SeamFact]
    public async Task An_announced_status_is_announced_once_per_change_for_every_node()
    {
        var other = await OpenStoreAsync(TimeSpan.FromSeconds(45));
        string user = NewUser(), someoneElse = NewUser();
        Assert.True(await _store.TryMarkAnnouncedAsync(user, PresenceStatus.Online, None));
        Assert.False(await _store.TryMarkAnnouncedAsync(user, PresenceStatus.Online, None));
        Assert.False(await other.TryMarkAnnouncedAsync(user, PresenceStatus.Online, None));
        Assert.True(await other.TryMarkAnnouncedAsync(user, PresenceStatus.Away, None));
        Assert.True(await _store.TryMarkAnnouncedAsync(user, PresenceStatus.Online, None));
        Assert.True(await _store.TryMarkAnnouncedAsync(someoneElse, PresenceStatus.Online, None)); // per user
        Assert.True(await _store.TryMarkAnnouncedAsync(user, PresenceStatus.Offline, None));
        Assert.False(await other.TryMarkAnnouncedAsync(user, PresenceStatus.Offline, None));
    }
}

/// <summary>The in-process store of one node: no TTLs, and "another node" is the same instance.</summary>
public sealed class LocalPresenceStoreContractTests : PresenceStoreContract
{
    private readonly LocalPresenceStore _store = new();

    protected override bool HasEntryTtl => false;

    protected override Task<IPresenceStore> OpenStoreAsync(TimeSpan entryTtl) => Task.FromResult<IPresenceStore>(_store);
}

/// <summary>The Redis store (CHAT_REDIS): each instance a node with its own connection, all under this test's key prefix.</summary>
[RequiresRedis]
public sealed class RedisPresenceStoreContractTests : PresenceStoreContract
{
    private readonly string _prefix = RedisTestServer.NewPrefix("presence");
    private readonly List<RedisConnection> _connections = [];

    protected override bool HasEntryTtl => true;

    protected override Task<IPresenceStore> OpenStoreAsync(TimeSpan entryTtl)
    {
        var options = new RedisBackplaneOptions { KeyPrefix = _prefix, EntryTtlSeconds = entryTtl.TotalSeconds, RefreshSeconds = entryTtl.TotalSeconds / 3 };
        var connection = RedisTestServer.Connect(options);
        _connections.Add(connection);
        var hub = new ConnectionHub(null!); // only read when Redis is unreachable
        return Task.FromResult<IPresenceStore>(new RedisPresenceStore(connection, hub, Options.Create(options), NullLogger<RedisPresenceStore>.Instance));
    }

    protected override async Task CleanUpAsync()
    {
        if (_connections.Count > 0) await RedisTestServer.DeleteKeysAsync(_connections[0], _prefix);
        foreach (var c in _connections) c.Dispose();
    }
}
