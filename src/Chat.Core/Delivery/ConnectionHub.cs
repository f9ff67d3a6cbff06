using System.Collections.Concurrent;
using System.Collections.Immutable;
using Chat.Core.Chats;
using Chat.Core.Domain;

namespace Chat.Core.Delivery;

/// <summary>
/// The devices connected to THIS node, by user; presence subscriptions of local connections. It routes events to
/// connections; what a connection has been pushed is its <see cref="DeliveryCursor"/>'s business.
/// </summary>
public sealed class ConnectionHub(MembershipCache membership) : ILocalDelivery
{
    private readonly ConcurrentDictionary<UserId, ImmutableArray<IDeviceSink>> _byUser = new();
    private readonly ConcurrentDictionary<UserId, ImmutableHashSet<IDeviceSink>> _presenceSubscribers = new();
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
                ? _byUser.TryRemove(new KeyValuePair<UserId, ImmutableArray<IDeviceSink>>(sink.UserId, arr))
                : _byUser.TryUpdate(sink.UserId, next, arr);
            if (done)
            {
                Interlocked.Decrement(ref _count);
                return;
            }
        }
    }

    public ImmutableArray<IDeviceSink> DevicesOf(UserId userId) =>
        _byUser.TryGetValue(userId, out var arr) ? arr : [];

    public IEnumerable<IDeviceSink> All() => _byUser.Values.SelectMany(a => a);

    public void DeliverLocal(IReadOnlyCollection<UserId> userIds, OutboundEvent evt)
    {
        foreach (var userId in userIds)
        {
            if (!_byUser.TryGetValue(userId, out var sinks)) continue;
            foreach (var sink in sinks)
            {
                if (sink.DeviceId == evt.ExcludeDeviceId) continue;
                if (evt.ChatId is { } chatId) sink.Cursor.Offer(sink, chatId, evt.Seq, evt.Payload);
                else sink.TrySend(evt.Payload);
            }
        }
    }

    /// <summary>
    /// A device's own message was stored: every socket of that device on this node (two tabs on one token) steps over
    /// it, so none of them gets it pushed (the sending socket got the ack).
    /// </summary>
    public void StepOverOwn(UserId userId, DeviceId deviceId, ChatId chatId, long seq)
    {
        foreach (var sink in DevicesOf(userId))
            if (sink.DeviceId == deviceId) sink.Cursor.NoteOwn(chatId, seq);
    }

    public void CloseLocal(DeviceId deviceId, int closeCode)
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

    public void Subscribe(UserId userId, IDeviceSink sink) =>
        _presenceSubscribers.AddOrUpdate(userId, static (_, s) => [s], static (_, set, s) => set.Add(s), sink);

    public void Unsubscribe(UserId userId, IDeviceSink sink)
    {
        while (_presenceSubscribers.TryGetValue(userId, out var set))
        {
            var next = set.Remove(sink);
            if (next.Count == set.Count) return;
            bool done = next.IsEmpty
                ? _presenceSubscribers.TryRemove(new KeyValuePair<UserId, ImmutableHashSet<IDeviceSink>>(userId, set))
                : _presenceSubscribers.TryUpdate(userId, next, set);
            if (done) return;
        }
    }

    public int PresenceSubscriptionCount => _presenceSubscribers.Values.Sum(s => s.Count);

    public void PresenceLocal(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom)
    {
        if (!_presenceSubscribers.TryGetValue(userId, out var set)) return;
        foreach (var sink in set)
            if (hiddenFrom.Count == 0 || !hiddenFrom.Contains(sink.UserId)) sink.TrySend(presenceFrame);
    }

    public void InvalidateLocal(ChatId chatId) => membership.Invalidate(chatId);
}
