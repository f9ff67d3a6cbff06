using Chat.Core.Caching;
using Chat.Core.Chats;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Delivery;

/// <summary>
/// Device acks → delivered pointers (coalesced in memory, written in batches every few ms) → delivery receipts;
/// and the connect-time catch-up / gap resync that pushes a device what it has not acknowledged. What a connection
/// has been pushed is its <see cref="DeliveryCursor"/>'s; this service reads the store and asks the cursor.
/// </summary>
public sealed partial class DeliveryService(
    IMessageStore messages, IPointerStore pointers, MembershipCache membership, RecentMessages recent,
    IBackplane backplane, IAttachments attachments, IOptions<ChatOptions> options, ChatMetrics metrics, ILogger<DeliveryService> log,
    MessageViews views) : BackgroundService
{
    private const int PageSize = 500;
    private readonly object _gate = new();
    private Dictionary<(DeviceId DeviceId, ChatId ChatId), (UserId UserId, long Seq, string MessageId)> _pending = [];
    // The batch being written right now: still "acked" for catch-up until the store has it, or a reconnect that
    // lands during a slow flush would be pushed messages it already acknowledged.
    private Dictionary<(DeviceId DeviceId, ChatId ChatId), (UserId UserId, long Seq, string MessageId)> _flushing = [];
    // The best delivered seq per (user, chat) known to this node: receipts go out only when it rises.
    private readonly BoundedCache<(UserId UserId, ChatId ChatId), long> _userDelivered =
        new("user_delivered", options.Value.Caches.UserDelivered, metrics);
    private readonly TimeSpan _flushEvery = TimeSpan.FromMilliseconds(options.Value.Commit.PointerFlushMs);

    /// <summary>A device acknowledged everything in a chat up to this message.</summary>
    public async ValueTask AckAsync(UserId userId, DeviceId deviceId, string? messageId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(messageId)) throw ChatException.Invalid("message_id is required.");
        if (!recent.TryGet(messageId, out var entry))
        {
            var m = await messages.GetMessageAsync(messageId, ct) ?? throw ChatException.NotFound("Message");
            entry = (new ChatId(m.ChatId), m.Seq);
        }
        // A message of a chat the user is not in answers exactly like an unknown id: an ack is no existence oracle.
        if (await membership.GetAsync(entry.ChatId, ct) is not { } members || !members.Contains(userId))
            throw ChatException.NotFound("Message");
        lock (_gate)
        {
            var key = (deviceId, entry.ChatId);
            if (!_pending.TryGetValue(key, out var cur) || entry.Seq > cur.Seq)
                _pending[key] = (userId, entry.Seq, messageId);
        }
    }

    /// <summary>
    /// This device's acks that may not be in the store yet (pending or being flushed), by chat. Catch-up takes it
    /// BEFORE reading the store: an ack is always in memory or already stored, so memory-then-store sees it even when
    /// a flush commits (and leaves memory) between the two reads.
    /// </summary>
    private Dictionary<ChatId, long> UnflushedAcks(DeviceId deviceId)
    {
        var acked = new Dictionary<ChatId, long>();
        lock (_gate)
        {
            foreach (var source in (ReadOnlySpan<Dictionary<(DeviceId DeviceId, ChatId ChatId), (UserId UserId, long Seq, string MessageId)>>)[_pending, _flushing])
                foreach (var ((device, chat), value) in source)
                    if (device == deviceId && (!acked.TryGetValue(chat, out long seq) || value.Seq > seq)) acked[chat] = value.Seq;
        }
        return acked;
    }

    private long PendingFor(DeviceId deviceId, ChatId chatId)
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
        Dictionary<(DeviceId DeviceId, ChatId ChatId), (UserId UserId, long Seq, string MessageId)> batch;
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
            var best = new Dictionary<(UserId UserId, ChatId ChatId), (long Seq, string MessageId)>();
            foreach (var ((_, chatId), (userId, seq, messageId)) in batch)
                if (!best.TryGetValue((userId, chatId), out var b) || seq > b.Seq) best[(userId, chatId)] = (seq, messageId);
            var before = new Dictionary<(UserId, ChatId), long>(best.Count);
            foreach (var key in best.Keys)
            {
                long known;
                _userDelivered.TryGetValue(key, out known);
                if (known == 0) known = await pointers.GetUserDeliveredAsync(key.UserId.Value, key.ChatId.Value, ct);
                before[key] = known;
            }

            await pointers.SaveDeliveredAsync(batch.Select(kv => new DevicePointer(kv.Key.DeviceId.Value, kv.Value.UserId.Value, kv.Key.ChatId.Value, kv.Value.Seq)).ToList(), ct);

            foreach (var (key, (seq, messageId)) in best)
            {
                long old = before[key];
                if (seq <= old) continue;
                _userDelivered.Set(key, seq);
                var senders = recent.Senders(key.ChatId, old, seq, key.UserId) ?? UserId.From(await messages.GetSendersAsync(key.ChatId.Value, old, seq, key.UserId.Value, ct));
                if (senders.Count == 0) continue;
                byte[] frame = Frames.Encode(new DeliveryReceiptFrame(key.ChatId.Value, messageId, seq, key.UserId.Value));
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
    public async Task CatchUpAsync(IDeviceSink sink, CancellationToken ct)
    {
        var cursor = sink.Cursor;
        cursor.Attach(() => _ = ResyncLoopAsync(sink));
        // Heads first: every message at or below a head that the query below does not return is not owed.
        var heads = await messages.GetChatHeadsAsync(sink.UserId.Value, ct);
        string afterChat = "";
        long afterSeq = 0;
        while (true)
        {
            var acked = UnflushedAcks(sink.DeviceId);
            var page = await messages.GetUndeliveredAsync(sink.UserId.Value, sink.DeviceId.Value, sink.DeviceCreatedAt, null, afterChat, afterSeq, PageSize, ct);
            foreach (var m in page) await PushAsync(sink, m, acked, ct);
            if (page.Count < PageSize) break;
            (afterChat, afterSeq) = (page[^1].ChatId, page[^1].Seq);
        }
        foreach (var head in heads) cursor.Advance(new ChatId(head.ChatId), head.LastSeq);
        if (cursor.GoLive()) _ = ResyncLoopAsync(sink);
    }

    /// <summary>Reads each chat the cursor marked dirty (a gap, events during catch-up) from the store and pushes what is owed.</summary>
    private async Task ResyncLoopAsync(IDeviceSink sink)
    {
        var ct = sink.Aborted;
        var cursor = sink.Cursor;
        try
        {
            while (cursor.NextDirty() is { } chatId)
            {
                long? from = cursor.Pushed(chatId);
                long head = from is null ? await messages.GetLastSeqAsync(chatId.Value, ct) : 0;
                var acked = UnflushedAcks(sink.DeviceId);
                var page = await messages.GetUndeliveredAsync(sink.UserId.Value, sink.DeviceId.Value, sink.DeviceCreatedAt, chatId.Value, chatId.Value, from ?? 0, PageSize, ct);
                foreach (var m in page) await PushAsync(sink, m, acked, ct);
                if (from is null) cursor.Advance(chatId, head);
                if (page.Count == PageSize) cursor.MarkDirty(chatId);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || sink.Aborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The device will get the rest on its next connect; a connection that cannot resync is closed.
            LogResyncFailed(log, sink.DeviceId.Value, ex);
            sink.Close(CloseCodes.ShuttingDown);
        }
    }

    private async ValueTask PushAsync(IDeviceSink sink, StoredMessage m, Dictionary<ChatId, long> acked, CancellationToken ct)
    {
        var chatId = new ChatId(m.ChatId);
        // Acks not yet flushed count as acknowledged too.
        long ackedSeq = Math.Max(acked.GetValueOrDefault(chatId), PendingFor(sink.DeviceId, chatId));
        switch (sink.Cursor.Plan(chatId, m.Seq, new DeviceId(m.SenderDeviceId), ackedSeq))
        {
            case CatchUpStep.AlreadyPushed:
                return;
            case CatchUpStep.Push:
                AttachmentInfo? attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, ct);
                await sink.SendWhenRoomAsync(Frames.Encode(MessageViews.Frame(m, attachment, await views.LoadOneAsync(m, ct))), ct);
                break;
        }
        sink.Cursor.Advance(chatId, m.Seq);
    }

    [LoggerMessage(1201, LogLevel.Warning, "Flushing {Count} delivery pointers failed; will retry")]
    private static partial void LogFlushFailed(ILogger logger, int count, Exception ex);

    [LoggerMessage(1202, LogLevel.Warning, "Resync of device {DeviceId} failed; closing it so it reconnects")]
    private static partial void LogResyncFailed(ILogger logger, string deviceId, Exception ex);
}
