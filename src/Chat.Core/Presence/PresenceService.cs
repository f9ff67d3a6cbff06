using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.People;
using Chat.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Presence;

/// <summary>
/// online / away / offline per user, derived from device facts. Updates go only to subscribers and only when the
/// derived status really changes; a user whose last device left stays as they were for the grace period.
/// Privacy (v1.1) is applied per viewer here, on every path: a user with <c>share_presence=false</c> is published to
/// nobody and shown offline with no last seen; the users someone blocked are left out of that user's updates.
/// </summary>
public sealed partial class PresenceService(
    IPresenceStore store, IBackplane backplane, ConnectionHub hub, PrivacyRules privacy, IOptions<ChatOptions> options,
    TimeProvider time, ILogger<PresenceService> log)
{
    private readonly long _graceMs = (long)(options.Value.Presence.GraceSeconds * 1000);
    private readonly int _maxSubscriptions = options.Value.Presence.MaxSubscriptionsPerConnection;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public (string Status, long LastSeen) Derive(PresenceFacts f, long now)
    {
        if (f.Connected > 0) return (f.Active > 0 ? PresenceStatus.Online : PresenceStatus.Away, now);
        if (f.LastSeen > 0 && now - f.LastSeen < _graceMs) return (f.LastStatus, f.LastSeen);
        return (PresenceStatus.Offline, f.LastSeen);
    }

    public async Task ConnectedAsync(IDeviceSink sink, CancellationToken ct)
    {
        var facts = await store.SetDeviceAsync(sink.UserId.Value, sink.DeviceId.Value, away: false, Now, ct);
        await PublishIfChangedAsync(facts, ct);
    }

    public async Task SetStatusAsync(IDeviceSink sink, string? status, CancellationToken ct)
    {
        if (status is not (PresenceStatus.Online or PresenceStatus.Away))
            throw ChatException.Invalid("status must be 'online' or 'away'.");
        var facts = await store.SetDeviceAsync(sink.UserId.Value, sink.DeviceId.Value, status == PresenceStatus.Away, Now, ct);
        await PublishIfChangedAsync(facts, ct);
    }

    public Task HeartbeatAsync(IDeviceSink sink, CancellationToken ct) =>
        store.RefreshAsync([(sink.UserId.Value, sink.DeviceId.Value)], ct).AsTask();

    public async Task DisconnectedAsync(IDeviceSink sink)
    {
        try
        {
            var facts = await store.RemoveDeviceAsync(sink.UserId.Value, sink.DeviceId.Value, Now, CancellationToken.None);
            if (facts.Connected > 0)
            {
                await PublishIfChangedAsync(facts, CancellationToken.None);
                return;
            }
            // The last device left: decide after the grace period, so a quick reconnect shows no flicker.
            _ = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_graceMs + 50), time);
                var now = await store.GetAsync([sink.UserId.Value], CancellationToken.None);
                await PublishIfChangedAsync(now[0], CancellationToken.None);
            });
        }
        catch (Exception ex)
        {
            LogPresenceFailed(log, sink.UserId.Value, ex);
        }
    }

    /// <summary>The presence of <paramref name="userIds"/> as <paramref name="viewerId"/> may see it.</summary>
    public async Task<IReadOnlyList<PresenceDto>> GetAsync(string viewerId, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var facts = await store.GetAsync(userIds, ct);
        var hidden = await privacy.PresenceHiddenAsync(viewerId, userIds, ct);
        long now = Now;
        return facts.Select(f =>
        {
            if (hidden.Contains(f.UserId)) return PresenceDto.Hidden(f.UserId);
            var (status, lastSeen) = Derive(f, now);
            return new PresenceDto(f.UserId, status, lastSeen);
        }).ToList();
    }

    /// <summary>Subscribes a connection and sends the current state of each user at once.</summary>
    public async Task SubscribeAsync(IDeviceSink sink, HashSet<string> subscriptions, IReadOnlyList<string>? userIds, CancellationToken ct)
    {
        if (userIds is not { Count: > 0 }) throw ChatException.Invalid("user_ids is required.");
        var fresh = userIds.Where(id => !string.IsNullOrEmpty(id) && !subscriptions.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
        if (subscriptions.Count + fresh.Count > _maxSubscriptions)
            throw ChatException.Invalid($"A connection can subscribe to at most {_maxSubscriptions} users.");
        foreach (string id in fresh)
        {
            subscriptions.Add(id);
            hub.Subscribe(new UserId(id), sink);
        }
        foreach (var p in await GetAsync(sink.UserId.Value, userIds.Distinct(StringComparer.Ordinal).ToList(), ct))
            sink.TrySend(Frames.Encode(PresenceFrame.Of(p)));
    }

    public void Unsubscribe(IDeviceSink sink, HashSet<string> subscriptions, IReadOnlyList<string>? userIds)
    {
        if (userIds is null) throw ChatException.Invalid("user_ids is required.");
        foreach (string id in userIds)
            if (subscriptions.Remove(id)) hub.Unsubscribe(new UserId(id), sink);
    }

    public void UnsubscribeAll(IDeviceSink sink, HashSet<string> subscriptions)
    {
        foreach (string id in subscriptions) hub.Unsubscribe(new UserId(id), sink);
        subscriptions.Clear();
    }

    /// <summary>
    /// A user switched share_presence: tells every subscriber what it may see now, even when the status itself did
    /// not change. (A block or unblock tells only the user concerned: <see cref="People.BlockService"/>.)
    /// </summary>
    public async Task RepublishAsync(string userId, CancellationToken ct)
    {
        var facts = (await store.GetAsync([userId], ct))[0];
        var (status, lastSeen) = Derive(facts, Now);
        await store.TryMarkAnnouncedAsync(userId, status, ct);
        bool shared = (await privacy.SettingsOfAsync(userId, ct)).SharePresence;
        await PublishAsync(shared ? new(userId, status, lastSeen) : PresenceFrame.Of(PresenceDto.Hidden(userId)), ct);
    }

    private async Task PublishIfChangedAsync(PresenceFacts facts, CancellationToken ct)
    {
        var (status, lastSeen) = Derive(facts, Now);
        if (!await store.TryMarkAnnouncedAsync(facts.UserId, status, ct)) return;
        // Hidden presence publishes nothing, so not even the moments of its changes are seen.
        if (!(await privacy.SettingsOfAsync(facts.UserId, ct)).SharePresence) return;
        await PublishAsync(new PresenceFrame(facts.UserId, status, lastSeen), ct);
    }

    private async Task PublishAsync(PresenceFrame frame, CancellationToken ct)
    {
        var hiddenFrom = UserId.From(await privacy.BlockedByAsync(frame.UserId, ct));
        await backplane.PublishPresenceAsync(new UserId(frame.UserId), Frames.Encode(frame), hiddenFrom, ct);
    }

    [LoggerMessage(1301, LogLevel.Warning, "Presence update for user {UserId} failed")]
    private static partial void LogPresenceFailed(ILogger logger, string userId, Exception ex);
}
