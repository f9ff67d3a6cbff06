using System.Diagnostics;
using System.Threading.Channels;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Notifications;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

/// <summary>A validated message waiting for its commit, and the socket that gets its ack (null: nobody waits for one).</summary>
public sealed record PendingSend(NewMessage Message, IDeviceSink? Sender);

/// <summary>
/// Group commit in two stages. The commit loop drains the queue and stores everything waiting in ONE transaction;
/// while a commit runs the next batch accumulates, so batches grow with load and one fsync serves many messages.
/// The delivery loop then acks each sender and fans each message out (encoded once), batch after batch in commit
/// order, while the commit loop is already storing the next batch. An ack is never sent before its commit.
/// </summary>
public sealed partial class MessageCommitter : BackgroundService
{
    private readonly Channel<PendingSend> _queue;
    // Committed batches waiting for acks and fan-out: a few, so a slow fan-out soon holds the commit loop back.
    private readonly Channel<(List<PendingSend> Batch, IReadOnlyList<AppendResult> Results)> _committed =
        Channel.CreateBounded<(List<PendingSend>, IReadOnlyList<AppendResult>)>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly IMessageStore _store;
    private readonly MembershipCache _membership;
    private readonly IBackplane _backplane;
    private readonly IAttachments _attachments;
    private readonly RecentMessages _recent;
    private readonly ConnectionHub _hub;
    private readonly ChatMetrics _metrics;
    private readonly PushDispatcher _push;
    private readonly ILogger<MessageCommitter> _log;
    private readonly int _maxBatch;
    private readonly MessageViews _views;

    public MessageCommitter(
        IMessageStore store, MembershipCache membership, IBackplane backplane, IAttachments attachments,
        RecentMessages recent, ConnectionHub hub, ChatMetrics metrics, PushDispatcher push, IOptions<ChatOptions> options,
        ILogger<MessageCommitter> log, MessageViews views)
    {
        _views = views;
        _store = store;
        _membership = membership;
        _backplane = backplane;
        _attachments = attachments;
        _recent = recent;
        _hub = hub;
        _metrics = metrics;
        _push = push;
        _log = log;
        _maxBatch = options.Value.Commit.MaxBatch;
        _queue = Channel.CreateBounded<PendingSend>(new BoundedChannelOptions(options.Value.Commit.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public int QueueLength => _queue.Reader.Count;

    public ValueTask EnqueueAsync(PendingSend send, CancellationToken ct) => _queue.Writer.WriteAsync(send, ct);

    /// <summary>Stops taking new sends; <see cref="ExecuteAsync"/> finishes committing what is queued (SIGTERM drain).</summary>
    public void Complete() => _queue.Writer.TryComplete();

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Complete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delivering = DeliverLoopAsync();
        // Not cancelled by stoppingToken: on shutdown the queue is completed and drained instead.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            var batch = new List<PendingSend>(Math.Min(_queue.Reader.Count, _maxBatch));
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            if (batch.Count == 0) continue;
            if (await CommitAsync(batch) is { } results) await _committed.Writer.WriteAsync((batch, results), CancellationToken.None);
        }
        _committed.Writer.Complete();
        await delivering;
    }

    /// <summary>Stores the batch; null when the store failed (every sender was told to retry).</summary>
    private async Task<IReadOnlyList<AppendResult>?> CommitAsync(List<PendingSend> batch)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var results = await _store.AppendAsync(batch.ConvertAll(p => p.Message), CancellationToken.None);
            _metrics.RecordCommit(batch.Count, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return results;
        }
        catch (Exception ex)
        {
            // Nothing of the batch is stored: tell every sender (never a false ack); clients retry with the same client_msg_id.
            LogCommitFailed(_log, batch.Count, ex);
            foreach (var p in batch)
                p.Sender?.TrySend(Frames.Encode(new ErrorFrame(ErrorCodes.Unavailable, StoreOutage.ClientMessage, p.Message.ClientMsgId, 1000)));
            await Task.Delay(100);
            return null;
        }
    }

    private async Task DeliverLoopAsync()
    {
        await foreach (var (batch, results) in _committed.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await DeliverAsync(batch, results);
            }
            catch (Exception ex)
            {
                // Never stop delivering: the batch is durable, unacked senders retry (dedup answers them) and
                // devices that missed the push catch up from their pointers.
                LogDeliverFailed(_log, batch.Count, ex);
            }
        }
    }

    private async Task DeliverAsync(List<PendingSend> batch, IReadOnlyList<AppendResult> results)
    {
        // Acks first: a sender never waits for the fan-out of a big group.
        for (int i = 0; i < batch.Count; i++)
        {
            var stored = results[i].Message;
            var chatId = new ChatId(stored.ChatId);
            var senderId = new UserId(stored.SenderId);
            _recent.Add(stored.MessageId, chatId, stored.Seq, senderId);
            if (batch[i].Sender is { } sender)
            {
                // The sending device gets the ack, not the event: its sockets here step over the message.
                _hub.StepOverOwn(senderId, new DeviceId(stored.SenderDeviceId), chatId, stored.Seq);
                sender.TrySend(Frames.Encode(new AckFrame(stored.ClientMsgId, stored.MessageId, stored.ChatId, stored.Seq, stored.Timestamp)));
            }
        }
        for (int i = 0; i < batch.Count; i++)
        {
            if (results[i].Duplicate) continue;
            var stored = results[i].Message;
            _metrics.MessagesAccepted.Add(1);
            try
            {
                await FanOutAsync(stored);
            }
            catch (Exception ex)
            {
                // The message is durable; devices that missed the push get it from their pointers.
                LogFanoutFailed(_log, stored.ChatId, ex);
            }
        }
    }

    private async ValueTask FanOutAsync(StoredMessage m)
    {
        var members = await _membership.GetAsync(m.ChatId, CancellationToken.None);
        if (members is null) return;
        AttachmentInfo? attachment = m.FileId is null ? null : await _attachments.DescribeAsync(m.FileId, CancellationToken.None);
        // A new message has no reactions; only a reply costs a read (its preview).
        var extras = m.ReplyToSeq is null ? MessageViews.Extras.None : await _views.LoadOneAsync(m, CancellationToken.None);
        byte[] frame = Frames.Encode(MessageViews.Frame(m, attachment, extras));
        await _backplane.SendToUsersAsync(members.Members, new OutboundEvent(frame, members.ChatId, m.Seq, new DeviceId(m.SenderDeviceId)), CancellationToken.None);
        // Web Push for offline devices: handed to its own bounded queue, so it never holds acks or fan-out back.
        _push.OnCommitted(new PushNotice(m, members, m.Mentions));
    }

    [LoggerMessage(1101, LogLevel.Error, "Commit of {Count} messages failed; senders were told to retry")]
    private static partial void LogCommitFailed(ILogger logger, int count, Exception ex);

    [LoggerMessage(1103, LogLevel.Error, "Acking and delivering a committed batch of {Count} messages failed; senders will retry")]
    private static partial void LogDeliverFailed(ILogger logger, int count, Exception ex);

    [LoggerMessage(1102, LogLevel.Warning, "Fan-out for chat {ChatId} failed; devices will catch up from their pointers")]
    private static partial void LogFanoutFailed(ILogger logger, string chatId, Exception ex);
}
