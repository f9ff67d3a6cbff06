using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Presence;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Notifications;

/// <summary>A committed message that may need pushes: the committer hands it over and goes on at once.</summary>
/// <param name="Mentioned">User ids the message mentions (for <c>notify=mentions</c>).</param>
public sealed record PushNotice(StoredMessage Message, ChatMembers Members, IReadOnlyCollection<string> Mentioned);

/// <summary>
/// Web Push for devices without an open socket. Off the send path: <see cref="OnCommitted"/> only offers the message to
/// a bounded queue (full: the notice is dropped and counted, the sender never waits); one loop turns notices into
/// pushes, which go out at most <see cref="PushOptions.MaxConcurrentSends"/> at a time, each with a timeout and a
/// bounded number of retries. Only the node that committed the message calls this, so a cluster pushes each message once.
/// </summary>
public sealed partial class PushDispatcher : BackgroundService
{
    public const int PreviewLength = 100;

    private readonly Channel<PushNotice> _queue;
    private readonly INotificationStore _store;
    private readonly IUserStore _users;
    private readonly IGroupStore _groups;
    private readonly IPushSender _sender;
    private readonly ConnectionHub _hub;
    private readonly IPresenceStore _presence;
    private readonly ChatMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<PushDispatcher> _log;
    private readonly PushOptions _options;
    private readonly SemaphoreSlim _sends;
    private readonly IPushCollapse _collapse;

    public PushDispatcher(
        INotificationStore store, IUserStore users, IGroupStore groups, IPushSender sender, ConnectionHub hub, IPresenceStore presence,
        IPushCollapse collapse, ChatMetrics metrics, TimeProvider time, IOptions<ChatOptions> options, ILogger<PushDispatcher> log)
    {
        _store = store;
        _users = users;
        _groups = groups;
        _sender = sender;
        _hub = hub;
        _presence = presence;
        _collapse = collapse;
        _metrics = metrics;
        _time = time;
        _log = log;
        _options = options.Value.Push;
        _sends = new SemaphoreSlim(_options.MaxConcurrentSends);
        _queue = Channel.CreateBounded<PushNotice>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: a full queue refuses, and the notice is dropped
        });
    }

    public int QueueLength => _queue.Reader.Count;

    /// <summary>Called by the committer after the fan-out of a new message; never waits.</summary>
    public void OnCommitted(PushNotice notice)
    {
        if (notice.Members.Members.Count < 2) return; // nobody but the sender
        if (!_queue.Writer.TryWrite(notice)) _metrics.PushDropped.Add(1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notice in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await DispatchAsync(notice, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogDispatchFailed(_log, notice.Message.ChatId, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: queued notices are dropped; the messages are durable and the devices catch up when they connect.
        }
    }

    private async Task DispatchAsync(PushNotice notice, CancellationToken ct)
    {
        var m = notice.Message;
        var recipients = notice.Members.Members.Where(u => u.Value != m.SenderId).Select(u => u.Value).ToList();
        var targets = await _store.GetPushTargetsAsync(m.ChatId, recipients, ct);
        if (targets.Count == 0) return;

        long now = _time.NowMs();
        var wanted = new List<PushTargetRecord>(targets.Count);
        foreach (var t in targets)
            if (Allows(t, notice.Mentioned, now) && !IsLocallyConnected(t.Subscription)) wanted.Add(t);
        if (wanted.Count == 0) return;
        var connected = await ConnectedElsewhereAsync(wanted, ct);

        string? senderName = null, chatName = null;
        foreach (var t in wanted)
        {
            var sub = t.Subscription;
            if (connected.Contains(sub.DeviceId)) continue;
            if (!await _collapse.TryClaimAsync(sub.DeviceId, m.ChatId, ct))
            {
                _metrics.PushCollapsed.Add(1);
                continue;
            }
            if (senderName is null) (senderName, chatName) = await NamesAsync(notice, ct);
            string preview = _options.IncludeContent ? Preview(m.Content) : "";
            var payload = new PushPayload("new_message", m.ChatId, m.MessageId, m.Seq, m.SenderId, senderName, chatName!, preview, t.UnreadCount);
            string json = Encoding.UTF8.GetString(Frames.Encode(payload));

            await _sends.WaitAsync(ct);
            _ = SendWithRetriesAsync(sub, Topic(m.ChatId), json, ct);
        }
    }

    /// <summary>The user's settings for the chat: <c>all</c>; <c>mentions</c> only when mentioned; never <c>none</c> or muted.</summary>
    internal static bool Allows(PushTargetRecord t, IReadOnlyCollection<string> mentioned, long now) =>
        (t.MutedUntil is not { } until || until <= now) && t.Notify switch
        {
            NotifyLevels.All => true,
            NotifyLevels.Mentions => mentioned.Contains(t.Subscription.UserId),
            _ => false,
        };

    private bool IsLocallyConnected(PushSubscriptionRecord sub)
    {
        foreach (var sink in _hub.DevicesOf(new UserId(sub.UserId)))
            if (sink.DeviceId.Value == sub.DeviceId) return true;
        return false;
    }

    /// <summary>Devices with an open socket on another node (the presence store knows every node's devices).</summary>
    private async Task<HashSet<string>> ConnectedElsewhereAsync(List<PushTargetRecord> targets, CancellationToken ct)
    {
        var connected = new HashSet<string>(StringComparer.Ordinal);
        foreach (string userId in targets.Select(t => t.Subscription.UserId).Distinct())
            connected.UnionWith(await _presence.GetConnectedDevicesAsync(userId, ct));
        return connected;
    }

    private async Task<(string Sender, string Chat)> NamesAsync(PushNotice notice, CancellationToken ct)
    {
        var sender = await _users.GetUserAsync(notice.Message.SenderId, ct);
        string senderName = sender?.DisplayName is { Length: > 0 } d ? d : sender?.Username ?? "";
        if (!notice.Members.IsGroup) return (senderName, senderName); // a direct chat is named after the other person
        var group = await _groups.GetGroupAsync(notice.Message.ChatId, ct);
        return (senderName, group?.Name ?? "");
    }

    private async Task SendWithRetriesAsync(PushSubscriptionRecord sub, string topic, string json, CancellationToken ct)
    {
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                PushResult result;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    timeout.CancelAfter(TimeSpan.FromSeconds(_options.SendTimeoutSeconds));
                    try
                    {
                        result = await _sender.SendAsync(sub, topic, json, timeout.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        result = new PushResult(PushOutcome.Failed, null, "timeout");
                    }
                }
                switch (result.Outcome)
                {
                    case PushOutcome.Sent:
                        _metrics.PushSent.Add(1);
                        return;
                    case PushOutcome.Gone:
                        _metrics.PushFailed.Add(1, new KeyValuePair<string, object?>("reason", "gone"));
                        await _store.DeletePushSubscriptionAsync(sub.DeviceId, sub.Endpoint, CancellationToken.None);
                        LogSubscriptionGone(_log, sub.DeviceId, result.Status ?? 0);
                        return;
                }
                if (attempt >= _options.MaxAttempts)
                {
                    _metrics.PushFailed.Add(1, new KeyValuePair<string, object?>("reason", "error"));
                    LogPushFailed(_log, sub.DeviceId, attempt, result.Status ?? 0, result.Reason ?? "");
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(_options.RetryDelayMs * (1L << (attempt - 1))), _time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown.
        }
        catch (Exception ex)
        {
            _metrics.PushFailed.Add(1, new KeyValuePair<string, object?>("reason", "error"));
            LogPushError(_log, sub.DeviceId, ex);
        }
        finally
        {
            _sends.Release();
        }
    }

    /// <summary>The first <see cref="PreviewLength"/> characters, never splitting a surrogate pair.</summary>
    internal static string Preview(string content)
    {
        if (content.Length <= PreviewLength) return content;
        int cut = char.IsHighSurrogate(content[PreviewLength - 1]) ? PreviewLength - 1 : PreviewLength;
        return content[..cut];
    }

    /// <summary>RFC 8030 Topic: at most 32 base64url characters; one per chat (the subscription already is the device).</summary>
    internal static string Topic(string chatId) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(chatId)).AsSpan(0, 24));

    public override void Dispose()
    {
        _sends.Dispose();
        base.Dispose();
    }

    [LoggerMessage(1901, LogLevel.Warning, "Push dispatch for chat {ChatId} failed")]
    private static partial void LogDispatchFailed(ILogger logger, string chatId, Exception ex);

    [LoggerMessage(1902, LogLevel.Information, "Push subscription of device {DeviceId} is gone ({Status}); deleted")]
    private static partial void LogSubscriptionGone(ILogger logger, string deviceId, int status);

    [LoggerMessage(1903, LogLevel.Warning, "Push to device {DeviceId} failed after {Attempts} attempts (status {Status}) {Reason}")]
    private static partial void LogPushFailed(ILogger logger, string deviceId, int attempts, int status, string reason);

    [LoggerMessage(1904, LogLevel.Warning, "Push to device {DeviceId} failed")]
    private static partial void LogPushError(ILogger logger, string deviceId, Exception ex);
}
