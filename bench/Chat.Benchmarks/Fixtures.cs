using System.Threading.Channels;
using Chat.Core;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Microsoft.Extensions.Options;

namespace Chat.Benchmarks;

/// <summary>
/// Every id, hub, sink and message the benchmarks build, in one place: when a Core signature changes
/// (typed ids on the hub, the sink, the cursor), this is the only file to adapt.
/// </summary>
internal static class Fixtures
{
    public static string NewUserId() => Ids.NewId();

    public static string NewChatId() => Ids.NewId();

    /// <summary>A direct message of <paramref name="content"/> from <paramref name="from"/> to <paramref name="to"/>, as the committer hands it to the store.</summary>
    public static NewMessage DirectMessage(string from, string to, string clientMsgId, string content) =>
        new(Ids.NewMessageId(), ChatRef.Direct(from, to), from, "device-" + from, clientMsgId, content, null, TimeProvider.System.NowMs(), to);

    /// <summary>
    /// A group of <c>recipients + 1</c> members on one node, one live device each, the sender's device excluded:
    /// every delivered message reaches <paramref name="recipients"/> sinks.
    /// </summary>
    public static FanOutScene GroupOnOneNode(int recipients, int queueFrames) => new(recipients, queueFrames);

    public sealed class FanOutScene
    {
        private readonly ConnectionHub _hub;
        private readonly UserId[] _members;
        private readonly Sink[] _sinks;
        private readonly ChatId _chatId = new(NewChatId());
        private readonly DeviceId _senderDevice;

        internal FanOutScene(int recipients, int queueFrames)
        {
            // The hub touches the membership cache only to invalidate a chat, which fan-out never does.
            _hub = new ConnectionHub(new MembershipCache(null!, null!, null!, Options.Create(new ChatOptions()), new ChatMetrics()));
            _members = Enumerable.Range(0, recipients + 1).Select(_ => new UserId(NewUserId())).ToArray();
            _sinks = _members.Select(u => new Sink(u, new DeviceId("device-" + u.Value), queueFrames)).ToArray();
            _senderDevice = _sinks[0].DeviceId;
            foreach (var sink in _sinks)
            {
                sink.Cursor.GoLive(); // catch-up done: live events are pushed, not resynced
                _hub.Add(sink);
            }
        }

        /// <summary>One <c>new_message</c> of the chat with this seq (1, 2, 3, ...: the cursors push only the next seq).</summary>
        public void Deliver(ReadOnlyMemory<byte> frame, long seq) =>
            _hub.DeliverLocal(_members, new OutboundEvent(frame, _chatId, seq, _senderDevice));

        /// <summary>What each send pump does: takes the queued frames. Returns how many there were.</summary>
        public int Drain()
        {
            int n = 0;
            foreach (var sink in _sinks)
                while (sink.Queue.TryRead(out _)) n++;
            return n;
        }
    }

    /// <summary>
    /// An in-memory device: the same bounded queue as the server's connection (single reader, only TryWrite), without
    /// the socket. Where the server closes a slow consumer, this sink throws: a benchmark must never let it fill.
    /// </summary>
    private sealed class Sink : IDeviceSink
    {
        private readonly Channel<ReadOnlyMemory<byte>> _outbox;
        private int _closeCode;

        public Sink(UserId userId, DeviceId deviceId, int queueFrames)
        {
            UserId = userId;
            DeviceId = deviceId;
            Cursor = new DeliveryCursor(deviceId);
            _outbox = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(queueFrames)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }

        public UserId UserId { get; }
        public DeviceId DeviceId { get; }
        public long DeviceCreatedAt => 0;
        public DeliveryCursor Cursor { get; }
        public CancellationToken Aborted => CancellationToken.None;
        public ChannelReader<ReadOnlyMemory<byte>> Queue => _outbox.Reader;

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            if (_outbox.Writer.TryWrite(frame)) return true;
            // A benchmark whose queue fills measures the wrong thing: fail loudly.
            throw new InvalidOperationException($"The sink of {DeviceId} overflowed: the benchmark must drain it.");
        }

        public ValueTask SendWhenRoomAsync(ReadOnlyMemory<byte> frame, CancellationToken ct) =>
            TrySend(frame) ? ValueTask.CompletedTask : throw new OperationCanceledException();

        public void Close(int closeCode)
        {
            if (Interlocked.CompareExchange(ref _closeCode, closeCode, 0) == 0) _outbox.Writer.TryComplete();
        }
    }
}
