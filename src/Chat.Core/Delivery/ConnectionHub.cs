using System.Collections.Concurrent;
using System.Collections.Immutable;
using Chat.Core.Chats;

namespace Chat.Core.Delivery;

/// <summary>The devices connected to THIS node, by user; presence subscriptions of local connections.</summary>
public sealed class ConnectionHub(MembershipCache membership) : ILocalDelivery
{
    private readonly ConcurrentDictionary<string, ImmutableArray<IDeviceSink>> _byUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableHashSet<IDeviceSink>> _presenceSubscribers = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(IDeviceSink sink)
    {
        _byUser.AddOrUpdate(sink.UserId, static (_, s) => [s], static (_, arr, s) => arr.Add(s), sink);
        Interlocked.Increment(ref _count);
    }

    public void Remove(IDeviceSink sink)
    {
        while (_byUser.TryGetValue(sink.UserId, out var arr))
        {
            var next = arr.Remove(sink);
            if (next.Length == arr.Length) return;
            bool done = next.IsEmpty
                ? _byUser.TryRemove(new KeyValuePair<string, ImmutableArray<IDeviceSink>>(sink.UserId, arr))
                : _byUser.TryUpdate(sink.UserId, next, arr);
            if (done)
            {
                Interlocked.Decrement(ref _count);
                return;
            }
        }
    }

    public ImmutableArray<IDeviceSink> DevicesOf(string userId) =>
        _byUser.TryGetValue(userId, out var arr) ? arr : [];

    public IEnumerable<IDeviceSink> All() => _byUser.Values.SelectMany(a => a);

    public void DeliverLocal(IReadOnlyCollection<string> userIds, OutboundEvent evt)
    {
        foreach (string userId in userIds)
        {
            if (!_byUser.TryGetValue(userId, out var sinks)) continue;
            foreach (var sink in sinks)
            {
                if (sink.DeviceId == evt.ExcludeDeviceId) continue;
                if (evt.IsMessage) sink.Cursor.Offer(sink, evt.ChatId!, evt.Seq, evt.Payload);
                else sink.TrySend(evt.Payload);
            }
        }
    }

    public void CloseLocal(string deviceId, int closeCode)
    {
        foreach (var arr in _byUser.Values)
            foreach (var sink in arr)
                if (sink.DeviceId == deviceId) sink.Close(closeCode);
    }

    public void CloseAll(int closeCode)
    {
        foreach (var arr in _byUser.Values)
            foreach (var sink in arr) sink.Close(closeCode);
    }

    public void Subscribe(string userId, IDeviceSink sink) =>
        _presenceSubscribers.AddOrUpdate(userId, static (_, s) => [s], static (_, set, s) => set.Add(s), sink);

    public void Unsubscribe(string userId, IDeviceSink sink)
    {
        while (_presenceSubscribers.TryGetValue(userId, out var set))
        {
            var next = set.Remove(sink);
            if (next.Count == set.Count) return;
            bool done = next.IsEmpty
                ? _presenceSubscribers.TryRemove(new KeyValuePair<string, ImmutableHashSet<IDeviceSink>>(userId, set))
                : _presenceSubscribers.TryUpdate(userId, next, set);
            if (done) return;
        }
    }

    public int PresenceSubscriptionCount => _presenceSubscribers.Values.Sum(s => s.Count);

    public void PresenceLocal(string userId, ReadOnlyMemory<byte> presenceFrame)
    {
        if (!_presenceSubscribers.TryGetValue(userId, out var set)) return;
        foreach (var sink in set) sink.TrySend(presenceFrame);
    }

    public void InvalidateLocal(string chatId) => membership.Invalidate(chatId);
}
