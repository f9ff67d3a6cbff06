namespace Chat.Core.Delivery;

/// <summary>
/// Keeps one connection's <c>new_message</c> stream in seq order per chat, with no gaps and no repeats.
/// Live events are pushed only when they are exactly the next seq of their chat; anything else
/// (a gap, a chat the connection has not caught up on yet) marks the chat dirty, and the resync loop
/// reads the missing range from the store. Own messages advance the cursor without being sent.
/// </summary>
public sealed class DeliveryCursor
{
    private readonly object _gate = new();
    private readonly Dictionary<string, long> _pushed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private bool _live;            // false until the connect-time catch-up has finished
    private bool _resyncRunning;
    private string? _resyncing;
    private Action? _startResync;

    /// <summary>Set by the catch-up runner: how to start the resync loop when a chat turns dirty.</summary>
    public void Attach(Action startResync) => _startResync = startResync;

    /// <summary>A live new_message for this device. Pushes it when in order; otherwise schedules a resync of its chat.</summary>
    public void Offer(IDeviceSink sink, string chatId, long seq, ReadOnlyMemory<byte> frame)
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
        }
        if (start) _startResync?.Invoke();
    }

    /// <summary>The device's own message was stored (it got the ack, not the event): step over it.</summary>
    public void NoteOwn(string chatId, long seq)
    {
        lock (_gate)
        {
            bool known = _pushed.TryGetValue(chatId, out long p);
            if (_live && _resyncing != chatId && !_dirty.Contains(chatId) && (known ? seq == p + 1 : seq == 1))
                _pushed[chatId] = seq;
        }
    }

    public long? Pushed(string chatId)
    {
        lock (_gate) return _pushed.TryGetValue(chatId, out long p) ? p : null;
    }

    /// <summary>Records that everything up to <paramref name="seq"/> of the chat has been pushed (or skipped).</summary>
    public void Advance(string chatId, long seq)
    {
        lock (_gate)
        {
            if (!_pushed.TryGetValue(chatId, out long p) || seq > p) _pushed[chatId] = seq;
        }
    }

    /// <summary>Catch-up done: live events flow from now on. Returns true when chats turned dirty meanwhile.</summary>
    public bool GoLive()
    {
        lock (_gate)
        {
            _live = true;
            return TryClaimResync();
        }
    }

    /// <summary>Takes the next dirty chat for the resync loop, or ends the loop (returns null) when none is left.</summary>
    public string? NextDirty()
    {
        lock (_gate)
        {
            _resyncing = null;
            if (_dirty.Count == 0)
            {
                _resyncRunning = false;
                return null;
            }
            string chat = _dirty.First();
            _dirty.Remove(chat);
            _resyncing = chat;
            return chat;
        }
    }

    /// <summary>Marks a chat for another resync pass (a page was full).</summary>
    public void MarkDirty(string chatId)
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
