using System.Text;
using Chat.Core.Delivery;
using Chat.Core.Domain;

namespace Chat.Tests.Core;

/// <summary>
/// The per-connection delivery rule: per chat in seq order, no gaps, no repeats, own messages stepped over;
/// anything out of order is left to the resync loop (which reads the store), claimed by exactly one runner.
/// </summary>
public sealed class DeliveryCursorTests
{
    private static readonly DeviceId Me = new("dev-me");
    private static readonly DeviceId Other = new("dev-other");
    private static readonly ChatId A = new("chat-a");
    private static readonly ChatId B = new("chat-b");

    /// <summary>A socket that records what was queued on it; <see cref="Full"/> makes it refuse like an overflowing outbox.</summary>
    private sealed class RecordingSink : IDeviceSink
    {
        public RecordingSink() => Cursor = new DeliveryCursor(Me);
        public List<string> Sent { get; } = [];
        public bool Full { get; set; }
        public UserId UserId { get; } = new("user-me");
        public DeviceId DeviceId => Me;
        public long DeviceCreatedAt => 0;
        public DeliveryCursor Cursor { get; }
        public CancellationToken Aborted => CancellationToken.None;

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            if (Full) return false;
            Sent.Add(Encoding.UTF8.GetString(frame.Span));
            return true;
        }

        public ValueTask SendWhenRoomAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
        {
            TrySend(frame);
            return ValueTask.CompletedTask;
        }

        public void Close(int closeCode) { }
    }

    private static ReadOnlyMemory<byte> Frame(ChatId chat, long seq) => Encoding.UTF8.GetBytes($"{chat}:{seq}");

    private static void Offer(RecordingSink sink, ChatId chat, long seq) => sink.Cursor.Offer(sink, chat, seq, Frame(chat, seq));

    /// <summary>A live cursor that has caught up on chat A up to <paramref name="caughtUpTo"/>; counts resync starts.</summary>
    private static (RecordingSink Sink, Func<int> Starts) Live(long caughtUpTo = 3)
    {
        var sink = new RecordingSink();
        int starts = 0;
        sink.Cursor.Attach(() => starts++);
        if (caughtUpTo > 0) sink.Cursor.Advance(A, caughtUpTo);
        Assert.False(sink.Cursor.GoLive());
        return (sink, () => starts);
    }

    [Fact]
    public void Live_events_in_order_are_pushed_and_advance_the_cursor()
    {
        var (sink, starts) = Live(caughtUpTo: 3);
        Offer(sink, A, 4);
        Offer(sink, A, 5);
        Offer(sink, B, 1); // a chat this connection never saw starts at seq 1
        Assert.Equal(["chat-a:4", "chat-a:5", "chat-b:1"], sink.Sent);
        Assert.Equal(5, sink.Cursor.Pushed(A));
        Assert.Equal(1, sink.Cursor.Pushed(B));
        Assert.Equal(0, starts());
        Assert.Null(sink.Cursor.NextDirty());
    }

    [Fact]
    public void A_gap_is_not_pushed_but_marks_the_chat_for_one_resync()
    {
        var (sink, starts) = Live(caughtUpTo: 3);
        Offer(sink, A, 5);                 // 4 is missing
        Offer(sink, A, 6);                 // the chat is dirty: also left to the resync
        Offer(sink, B, 2);                 // unknown chat not starting at 1: a gap too
        Assert.Empty(sink.Sent);
        Assert.Equal(1, starts());         // one runner claimed the loop, however many gaps
        Assert.Equal(3, sink.Cursor.Pushed(A));

        var first = sink.Cursor.NextDirty();
        var second = sink.Cursor.NextDirty();
        Assert.Equal(new HashSet<ChatId> { A, B }, new HashSet<ChatId> { first!.Value, second!.Value });
        Assert.Null(sink.Cursor.NextDirty()); // the loop ends...
        Offer(sink, A, 9);
        Assert.Equal(2, starts());         // ...and the next gap starts it again
    }

    [Fact]
    public void Events_for_the_chat_being_resynced_go_back_to_the_resync()
    {
        var (sink, starts) = Live(caughtUpTo: 3);
        Offer(sink, A, 5);
        Assert.Equal(A, sink.Cursor.NextDirty());
        // The resync reads A from the store; meanwhile seq 4 arrives live. It must not overtake the resync.
        Offer(sink, A, 4);
        Assert.Empty(sink.Sent);
        Assert.Equal(1, starts());         // the running loop picks it up: no second runner
        sink.Cursor.Advance(A, 5);         // what the resync pushed
        Assert.Equal(A, sink.Cursor.NextDirty());
        Assert.Null(sink.Cursor.NextDirty());
        Offer(sink, A, 6);
        Assert.Equal(["chat-a:6"], sink.Sent);
    }

    [Fact]
    public void Repeats_are_dropped_without_a_resync()
    {
        var (sink, starts) = Live(caughtUpTo: 5);
        Offer(sink, A, 5);
        Offer(sink, A, 2);
        Assert.Empty(sink.Sent);
        Assert.Equal(0, starts());
        Assert.Null(sink.Cursor.NextDirty());
        Assert.Equal(5, sink.Cursor.Pushed(A));
    }

    [Fact]
    public void Before_catch_up_ends_everything_waits_and_going_live_claims_the_resync()
    {
        var sink = new RecordingSink();
        int starts = 0;
        sink.Cursor.Attach(() => starts++);
        Offer(sink, A, 1);                 // even the perfect next seq waits: catch-up may still be pushing
        sink.Cursor.NoteOwn(B, 1);         // own messages are not stepped over before going live
        Assert.Empty(sink.Sent);
        Assert.Equal(0, starts);         // not started by the offer: catch-up is still running
        Assert.Null(sink.Cursor.Pushed(B));

        Assert.True(sink.Cursor.GoLive()); // the caller runs the resync itself (no callback)
        Assert.Equal(0, starts);
        Assert.Equal(A, sink.Cursor.NextDirty());
        Assert.Null(sink.Cursor.NextDirty());
    }

    [Fact]
    public void Going_live_with_nothing_dirty_claims_nothing()
    {
        var sink = new RecordingSink();
        Assert.False(sink.Cursor.GoLive());
        Assert.Null(sink.Cursor.NextDirty());
    }

    [Fact]
    public void Own_messages_are_stepped_over_when_they_are_next()
    {
        var (sink, starts) = Live(caughtUpTo: 3);
        sink.Cursor.NoteOwn(A, 4);         // the device's own message: it got the ack
        Offer(sink, A, 5);
        Assert.Equal(["chat-a:5"], sink.Sent);

        sink.Cursor.NoteOwn(A, 7);         // not next (6 was not seen yet): ignored here...
        Assert.Equal(5, sink.Cursor.Pushed(A));
        Offer(sink, A, 8);                 // ...so 8 shows a gap, and the resync steps over 7 from the store
        Assert.Equal(1, starts());
        Assert.Equal(["chat-a:5"], sink.Sent);

        sink.Cursor.NoteOwn(A, 6);         // dirty chat: stepping is left to the resync too
        Assert.Equal(5, sink.Cursor.Pushed(A));
        sink.Cursor.NoteOwn(B, 1);         // first message of a new chat is the device's own
        Assert.Equal(1, sink.Cursor.Pushed(B));
    }

    [Fact]
    public void A_refused_push_does_not_advance()
    {
        var (sink, _) = Live(caughtUpTo: 3);
        sink.Full = true;                  // the outbox overflowed: the sink closes itself (4008)
        Offer(sink, A, 4);
        Assert.Equal(3, sink.Cursor.Pushed(A));
    }

    [Fact]
    public void Catch_up_plan_skips_what_was_pushed_and_steps_over_own_and_acked_messages()
    {
        var (sink, _) = Live(caughtUpTo: 3);
        var cursor = sink.Cursor;
        Assert.Equal(CatchUpStep.AlreadyPushed, cursor.Plan(A, 3, Other, ackedSeq: 0));
        Assert.Equal(CatchUpStep.AlreadyPushed, cursor.Plan(A, 1, Me, ackedSeq: 0));
        Assert.Equal(CatchUpStep.Push, cursor.Plan(A, 4, Other, ackedSeq: 3));
        Assert.Equal(CatchUpStep.StepOver, cursor.Plan(A, 4, Me, ackedSeq: 0));       // own message
        Assert.Equal(CatchUpStep.StepOver, cursor.Plan(A, 4, Other, ackedSeq: 4));    // acked, not yet flushed
        Assert.Equal(CatchUpStep.Push, cursor.Plan(B, 1, Other, ackedSeq: 0));        // unknown chat
        Assert.Equal(Me, cursor.Device);
    }

    [Fact]
    public void Advance_never_moves_back()
    {
        var (sink, _) = Live(caughtUpTo: 7);
        sink.Cursor.Advance(A, 4);
        Assert.Equal(7, sink.Cursor.Pushed(A));
        sink.Cursor.Advance(A, 9);
        Assert.Equal(9, sink.Cursor.Pushed(A));
    }

    [Fact]
    public void Typed_ids_compare_ordinally_and_print_as_their_value()
    {
        Assert.Equal(new ChatId("x"), new ChatId(new string('x', 1)));
        Assert.NotEqual(new UserId("a"), new UserId("A"));
        Assert.Equal("dev-me", Me.ToString());
        Assert.Equal("chat-a", $"{A}");
        Assert.Equal([new UserId("a"), new UserId("b")], UserId.From(["a", "b"]));
    }
}
