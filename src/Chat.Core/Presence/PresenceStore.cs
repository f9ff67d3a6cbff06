using System.Collections.Concurrent;

namespace Chat.Core.Presence;

/// <summary>A user's raw presence facts: which devices are connected (and away), and when the last one left.</summary>
public sealed record PresenceFacts(string UserId, int Connected, int Active, long LastSeen, string LastStatus);

/// <summary>
/// Where presence lives: in memory on one node; Redis (with TTLs, so a dead node does not leave users online) in a cluster.
/// </summary>
public interface IPresenceStore
{
    ValueTask<PresenceFacts> SetDeviceAsync(string userId, string deviceId, bool away, long now, CancellationToken ct);
    ValueTask<PresenceFacts> RemoveDeviceAsync(string userId, string deviceId, long now, CancellationToken ct);
    ValueTask<IReadOnlyList<PresenceFacts>> GetAsync(IReadOnlyCollection<string> userIds, CancellationToken ct);
    /// <summary>Keeps these connected devices alive (heartbeat); a no-op where liveness is the socket itself.</summary>
    ValueTask RefreshAsync(IReadOnlyCollection<(string UserId, string DeviceId)> devices, CancellationToken ct);
    /// <summary>
    /// Records the status last announced for a user; false when that status was already announced. Shared by all
    /// nodes in a cluster, so a change seen by one node is not suppressed by another node's stale memory.
    /// </summary>
    ValueTask<bool> TryMarkAnnouncedAsync(string userId, string status, CancellationToken ct);
    /// <summary>The user's devices with an open socket on any node (push goes only to the others).</summary>
    ValueTask<IReadOnlyCollection<string>> GetConnectedDevicesAsync(string userId, CancellationToken ct);
}

public sealed class LocalPresenceStore : IPresenceStore
{
    private sealed class Entry
    {
        public readonly Dictionary<string, bool> Devices = new(StringComparer.Ordinal); // deviceId → away
        public long LastSeen;
        public string LastStatus = PresenceStatus.Offline;
    }

    private readonly ConcurrentDictionary<string, Entry> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _announced = new(StringComparer.Ordinal);

    public ValueTask<bool> TryMarkAnnouncedAsync(string userId, string status, CancellationToken ct)
    {
        if (_announced.TryGetValue(userId, out var prev) && prev == status) return ValueTask.FromResult(false);
        _announced[userId] = status;
        return ValueTask.FromResult(true);
    }

    public ValueTask<PresenceFacts> SetDeviceAsync(string userId, string deviceId, bool away, long now, CancellationToken ct)
    {
        var e = _users.GetOrAdd(userId, _ => new Entry());
        lock (e)
        {
            e.Devices[deviceId] = away;
            e.LastSeen = now;
            return ValueTask.FromResult(Facts(userId, e));
        }
    }

    public ValueTask<PresenceFacts> RemoveDeviceAsync(string userId, string deviceId, long now, CancellationToken ct)
    {
        var e = _users.GetOrAdd(userId, _ => new Entry());
        lock (e)
        {
            if (e.Devices.Count > 0)
            {
                e.LastStatus = e.Devices.Values.Any(a => !a) ? PresenceStatus.Online : PresenceStatus.Away;
            }
            if (e.Devices.Remove(deviceId)) e.LastSeen = now;
            return ValueTask.FromResult(Facts(userId, e));
        }
    }

    public ValueTask<IReadOnlyList<PresenceFacts>> GetAsync(IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var list = new List<PresenceFacts>(userIds.Count);
        foreach (string id in userIds)
        {
            if (_users.TryGetValue(id, out var e))
                lock (e) list.Add(Facts(id, e));
            else list.Add(new PresenceFacts(id, 0, 0, 0, PresenceStatus.Offline));
        }
        return ValueTask.FromResult<IReadOnlyList<PresenceFacts>>(list);
    }

    public ValueTask RefreshAsync(IReadOnlyCollection<(string UserId, string DeviceId)> devices, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask<IReadOnlyCollection<string>> GetConnectedDevicesAsync(string userId, CancellationToken ct)
    {
        if (!_users.TryGetValue(userId, out var e)) return ValueTask.FromResult<IReadOnlyCollection<string>>([]);
        lock (e) return ValueTask.FromResult<IReadOnlyCollection<string>>(e.Devices.Keys.ToArray());
    }

    private static PresenceFacts Facts(string userId, Entry e) =>
        new(userId, e.Devices.Count, e.Devices.Values.Count(a => !a), e.LastSeen, e.LastStatus);
}

public static class PresenceStatus
{
    public const string Online = "online";
    public const string Away = "away";
    public const string Offline = "offline";
}
