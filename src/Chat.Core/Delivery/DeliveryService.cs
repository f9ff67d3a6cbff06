using Chat.Core.Chats;
using Chat.Core.Messaging;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Delivery;

/// <summary>
/// Device acks → delivered pointers (coalesced in memory, written in batches every few ms) → delivery receipts;
/// and the connect-time catch-up / gap resync that pushes a device what it has not acknowledged.
/// </summary>
public sealed partial class DeliveryService(
    IMessageStore messages, IPointerStore pointers, MembershipCache membership, RecentMessages recent,
    IBackplane backplane, IAttachments attachments, IOptions<ChatOptions> options, ILogger<DeliveryService> log) : BackgroundService
{
    private const int PageSize = 500;
    private readonly object _gate = new();
    private Dictionary<(string DeviceId, string ChatId), (string UserId, long Seq, string MessageId)> _pending = [];
    // The batch being written right now: still "acked" for catch-up until the store has it, or a reconnect that
    // lands during a slow flush would be pushed messages it already acknowledged.
    private Dictionary<(string DeviceId, string ChatId), (string UserId, long Seq, string MessageId)> _flushing = [];
    // The best delivered seq per (user, chat) known to this node: receipts go out only when it rises.
    private readonly Dictionary<(string UserId, string ChatId), long> _userDelivered = [];
    private readonly TimeSpan _flushEvery = TimeSpan.FromMilliseconds(options.Value.Commit.PointerFlushMs);

    /// <summary>A device acknowledged everything in a chat up to this message.</summary>
    public async ValueTask AckAsync(string userId, string deviceId, string? messageId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(messageId)) throw ChatException.Invalid("message_id is required.");
        if (!recent.TryGet(messageId, out var entry))
        {
            var m = await messages.GetMessageAsync(messageId, ct) ?? throw ChatException.NotFound("Message");
            entry = (m.ChatId, m.Seq);
        }
        await membership.RequireMemberAsync(entry.ChatId, userId, hideForbidden: false, ct);
        lock (_gate)
        {
            var key = (deviceId, entry.ChatId);
            if (!_pending.TryGetValue(key, out var cur) || entry.Seq > cur.Seq)
                _pending[key] = (userId, entry.Seq, messageId);
        }
    }

    /// <summary>The delivered pointer of a device including acks not yet flushed.</summary>
    /// <summary>
    /// This device's acks that may not be in the store yet (pending or being flushed), by chat. Catch-up takes it
    /// BEFORE reading the store: an ack is always in memory or already stored, so memory-then-store sees it even when
    /// a flush commits (and leaves memory) between the two reads.
    /// </summary>
    private Dictionary<string, long> UnflushedAcks(string deviceId)
    {
        var acked = new Dictionary<string, long>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var source in (ReadOnlySpan<Dictionary<(string DeviceId, string ChatId), (string UserId, long Seq, string MessageId)>>)[_pending, _flushing])
                foreach (var ((device, chat), value) in source)
                    if (device == deviceId && (!acked.TryGetValue(chat, out long seq) || value.Seq > seq)) acked[chat] = value.Seq;
        }
        return acked;
    }

    private long PendingFor(string deviceId, string chatId)
    {
        lock (_gate)
        {
            long pending = _pending.TryGetValue((deviceId, chatId), out var p) ? p.Seq : 0;
            long flushing = _flushing.TryGetValue((deviceId, chatId), out var f) ? f.Seq : 0;
            return Math.Max(pending, flushing);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_flushEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
        }
        await FlushAsync(CancellationToken.None); // shutdown: persist what was acked
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        Dictionary<(string DeviceId, string ChatId), (string UserId, long Seq, string MessageId)> batch;
        lock (_gate)
        {
            if (_pending.Count == 0) return;
            batch = _pending;
            _pending = [];
            _flushing = batch;
        }
        try
        {
            // Per (user, chat): the best new seq among this batch's devices, and the previous best.
            var best = new Dictionary<(string UserId, string ChatId), (long Seq, string MessageId)>();
            foreach (var ((_, chatId), (userId, seq, messageId)) in batch)
                if (!best.TryGetValue((userId, chatId), out var b) || seq > b.Seq) best[(userId, chatId)] = (seq, messageId);
            var before = new Dictionary<(string, string), long>(best.Count);
            foreach (var key in best.Keys)
            {
                long known;
                lock (_gate) _userDelivered.TryGetValue(key, out known);
                if (known == 0) known = await pointers.GetUserDeliveredAsync(key.UserId, key.ChatId, ct);
                before[key] = known;
            }

            await pointers.SaveDeliveredAsync(batch.Select(kv => new DevicePointer(kv.Key.DeviceId, kv.Value.UserId, kv.Key.ChatId, kv.Value.Seq)).ToList(), ct);

            foreach (var (key, (seq, messageId)) in best)
            {
                long old = before[key];
                if (seq <= old) continue;
                lock (_gate)
                {
                    if (_userDelivered.Count > 1_000_000) _userDelivered.Clear();
                    _userDelivered[key] = seq;
                }
                var senders = recent.Senders(key.ChatId, old, seq, key.UserId) ?? await messages.GetSendersAsync(key.ChatId, old, seq, key.UserId, ct);
                if (senders.Count == 0) continue;
                byte[] frame = Frames.Encode(new DeliveryReceiptFrame(key.ChatId, messageId, seq, key.UserId));
                await backplane.SendToUsersAsync(senders, new OutboundEvent(frame), ct);
            }
        }
        catch (Exception ex)
        {
            // Put the acks back so they are retried; pointers only ever rise, so a retry is harmless.
            LogFlushFailed(log, batch.Count, ex);
            lock (_gate)
            {
                foreach (var (key, value) in batch)
                    if (!_pending.TryGetValue(key, out var cur) || value.Seq > cur.Seq) _pending[key] = value;
            }
        }
        finally
        {
            lock (_gate) _flushing = [];
        }
    }

    /// <summary>
    /// Connect-time catch-up: push every message the device has not acknowledged, per chat in seq order,
    /// then switch the connection to live delivery. Runs on the connection's own task.
    /// </summary>
    public async Task CatchUpAsync(IDeviceSink sink, string baseUrl, CancellationToken ct)
    {
        sink.Cursor.Attach(() => _ = ResyncLoopAsync(sink, baseUrl));
        // Heads first: every message at or below a head that the query below does not return is not owed.
        var heads = await messages.GetChatHeadsAsync(sink.UserId, ct);
        string afterChat = "";
        long afterSeq = 0;
        while (true)
        {
            var acked = UnflushedAcks(sink.DeviceId);
            var page = await messages.GetUndeliveredAsync(sink.UserId, sink.DeviceId, sink.DeviceCreatedAt, null, afterChat, afterSeq, PageSize, ct);
            foreach (var m in page) await PushAsync(sink, m, baseUrl, acked, ct);
            if (page.Count < PageSize) break;
            (afterChat, afterSeq) = (page[^1].ChatId, page[^1].Seq);
        }
        foreach (var head in heads) sink.Cursor.Advance(head.ChatId, head.LastSeq);
        if (sink.Cursor.GoLive()) _ = ResyncLoopAsync(sink, baseUrl);
    }

    private async Task ResyncLoopAsync(IDeviceSink sink, string baseUrl)
    {
        var ct = sink.Aborted;
        try
        {
            while (sink.Cursor.NextDirty() is { } chatId)
            {
                long? from = sink.Cursor.Pushed(chatId);
                long head = from is null ? await messages.GetLastSeqAsync(chatId, ct) : 0;
                var acked = UnflushedAcks(sink.DeviceId);
                var page = await messages.GetUndeliveredAsync(sink.UserId, sink.DeviceId, sink.DeviceCreatedAt, chatId, chatId, from ?? 0, PageSize, ct);
                foreach (var m in page) await PushAsync(sink, m, baseUrl, acked, ct);
                if (from is null) sink.Cursor.Advance(chatId, head);
                if (page.Count == PageSize) sink.Cursor.MarkDirty(chatId);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || sink.Aborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The device will get the rest on its next connect; a connection that cannot resync is closed.
            LogResyncFailed(log, sink.DeviceId, ex);
            sink.Close(CloseCodes.ShuttingDown);
        }
    }

    private async ValueTask PushAsync(IDeviceSink sink, StoredMessage m, string baseUrl, Dictionary<string, long> acked, CancellationToken ct)
    {
        long? pushed = sink.Cursor.Pushed(m.ChatId);
        if (pushed >= m.Seq) return;
        // A device's own messages count as acknowledged by it, and acks not yet flushed count too.
        long ackedSeq = Math.Max(acked.GetValueOrDefault(m.ChatId), PendingFor(sink.DeviceId, m.ChatId));
        if (m.SenderDeviceId != sink.DeviceId && ackedSeq < m.Seq)
        {
            AttachmentInfo? attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, baseUrl, ct);
            await sink.SendWhenRoomAsync(Frames.Encode(new MessageFrame(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, m.ClientMsgId, attachment)), ct);
        }
        sink.Cursor.Advance(m.ChatId, m.Seq);
    }

    [LoggerMessage(1201, LogLevel.Warning, "Flushing {Count} delivery pointers failed; will retry")]
    private static partial void LogFlushFailed(ILogger logger, int count, Exception ex);

    [LoggerMessage(1202, LogLevel.Warning, "Resync of device {DeviceId} failed; closing it so it reconnects")]
    private static partial void LogResyncFailed(ILogger logger, string deviceId, Exception ex);
}
