using Chat.Core.Domain;

namespace Chat.Core.Delivery;

/// <summary>What catch-up does with a stored message it read for a device (<see cref="DeliveryCursor.Plan"/>).</summary>
public enum CatchUpStep
{
    /// <summary>The connection already has it (pushed live or earlier in this catch-up): nothing to do.</summary>
    AlreadyPushed,
    /// <summary>Send it, then <see cref="DeliveryCursor.Advance"/>.</summary>
    Push,
    /// <summary>The device does not need it (its own message, or already acknowledged): just <see cref="DeliveryCursor.Advance"/>.</summary>
    StepOver,
}

/// <summary>
/// The one owner of a connection's delivery state: per chat the highest seq pushed (or stepped over), which chats
/// need a resync from the store, whether the connect-time catch-up has finished, and who runs the resync loop.
/// Its rule: the <c>new_message</c> stream of a connection is in seq order per chat, with no gaps and no repeats,
/// and without the device's own messages (the device got an ack for those, not the event).
/// <list type="bullet">
/// <item>Live events (<see cref="Offer"/>) are pushed only when they are exactly the next seq of their chat; anything
/// else (a gap, a chat the connection has not caught up on yet) marks the chat dirty and claims the resync loop.</item>
/// <item>Own messages are stepped over when stored (<see cref="NoteOwn"/>) and during catch-up (<see cref="Plan"/>).</item>
/// <item>Catch-up and resync (in <see cref="DeliveryService"/>) read the store and ask <see cref="Plan"/> per message.</item>
/// </list>
/// One per socket: two sockets of one device each have their own stream. Thread-safe.
/// </summary>
public sealed class DeliveryCursor(DeviceId device)
{
    private readonly object _gate = new();
    private readonly Dictionary<ChatId, long> _pushed = [];
    private readonly HashSet<ChatId> _dirty = [];
    private bool _live;            // false until the connect-time catch-up has finished
    private bool _resyncRunning;
    private ChatId? _resyncing;
    private Action? _startResync;

    /// <summary>The device whose messages this connection gets acks for, not events.</summary>
    public DeviceId Device { get; } = device;

    /// <summary>Set by the catch-up runner: how to start the resync loop when a chat turns dirty.</summary>
    public void Attach(Action startResync) => _startResync = startResync;

    /// <summary>A live new_message for this device. Pushes it when in order; otherwise schedules a resync of its chat.</summary>
    public void Offer(IDeviceSink sink, ChatId chatId, long seq, ReadOnlyMemory<byte> frame)
    {
        bool start = false;
        lock (_gate)
        {
            if (!_live || _resyncing == chatId || _dirty.Contains(chatId))
            {
                _dirty.Add(chatId);
                start = TryClaimResync();
            }
            else if (_pushed.TryGetValue(chatId, out long p) ? seq == p + 1 : seq == 1)
            {
                if (sink.TrySend(frame)) _pushed[chatId] = seq;
            }
            else if (!_pushed.TryGetValue(chatId, out p) || seq > p + 1)
            {
                _dirty.Add(chatId);
                start = TryClaimResync();
            }
            // else: seq <= pushed, a repeat (e.g. resync already sent it): dropped.
        }
        if (start) _startResync?.Invoke();
    }

    /// <summary>
    /// The device's own message was stored (it got the ack, not the event): step over it when it is the next seq.
    /// Otherwise nothing happens here: the next live event then shows the gap, and the resync steps over it.
    /// </summary>
    public void NoteOwn(ChatId chatId, long seq)
    {
        lock (_gate)
        {
            bool known = _pushed.TryGetValue(chatId, out long p);
            if (_live && _resyncing != chatId && !_dirty.Contains(chatId) && (known ? seq == p + 1 : seq == 1))
                _pushed[chatId] = seq;
        }
    }

    /// <summary>
    /// Catch-up/resync: what to do with a stored message of the chat. <paramref name="ackedSeq"/> is the highest seq the
    /// device acknowledged in the chat (including acks not yet flushed to the store).
    /// </summary>
    public CatchUpStep Plan(ChatId chatId, long seq, DeviceId sender, long ackedSeq)
    {
        lock (_gate)
        {
            if (_pushed.TryGetValue(chatId, out long p) && p >= seq) return CatchUpStep.AlreadyPushed;
        }
        // A device's own messages count as acknowledged by it.
        return sender == Device || ackedSeq >= seq ? CatchUpStep.StepOver : CatchUpStep.Push;
    }

    /// <summary>The highest seq pushed (or stepped over) in the chat; null when this connection knows nothing of it yet.</summary>
    public long? Pushed(ChatId chatId)
    {
        lock (_gate) return _pushed.TryGetValue(chatId, out long p) ? p : null;
    }

    /// <summary>Records that everything up to <paramref name="seq"/> of the chat has been pushed (or skipped).</summary>
    public void Advance(ChatId chatId, long seq)
    {
        lock (_gate)
        {
            if (!_pushed.TryGetValue(chatId, out long p) || seq > p) _pushed[chatId] = seq;
        }
    }

    /// <summary>Catch-up done: live events flow from now on. Returns true when chats turned dirty meanwhile (the caller runs the resync).</summary>
    public bool GoLive()
    {
        lock (_gate)
        {
            _live = true;
            return TryClaimResync();
        }
    }

    /// <summary>Takes the next dirty chat for the resync loop, or ends the loop (returns null) when none is left.</summary>
    public ChatId? NextDirty()
    {
        lock (_gate)
        {
            _resyncing = null;
            if (_dirty.Count == 0)
            {
                _resyncRunning = false;
                return null;
            }
            var chat = _dirty.First();
            _dirty.Remove(chat);
            _resyncing = chat;
            return chat;
        }
    }

    /// <summary>Marks a chat for another resync pass (a page was full).</summary>
    public void MarkDirty(ChatId chatId)
    {
        lock (_gate) _dirty.Add(chatId);
    }

    private bool TryClaimResync()
    {
        if (!_live || _resyncRunning || _dirty.Count == 0) return false;
        _resyncRunning = true;
        return true;
    }
}
