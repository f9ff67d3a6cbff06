using System.Collections.Concurrent;
using Chat.Core.Domain;

namespace Chat.Core.Messaging;

/// <summary>
/// What the hot path needs to know about recently stored messages without asking the store:
/// message_id → (chat, seq) for device acks, and each chat's last few (seq, sender) for receipts.
/// </summary>
public sealed class RecentMessages
{
    private const int MaxEntries = 500_000;
    private const int MaxChats = 200_000;
    private const int TailLength = 32;

    private ConcurrentDictionary<string, (ChatId ChatId, long Seq)> _current = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, (ChatId ChatId, long Seq)> _previous = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ChatId, Tail> _tails = new();
    // Counted here: ConcurrentDictionary.Count takes every bucket lock, too costly once per stored message.
    private int _currentCount;
    private int _tailCount;

    /// <summary>The last <see cref="TailLength"/> senders of a chat, by seq (a ring).</summary>
    private sealed class Tail
    {
        public readonly UserId[] Senders = new UserId[TailLength]; // default(UserId) = not known
        public long LastSeq;
    }

    public void Add(string messageId, ChatId chatId, long seq, UserId senderId)
    {
        if (Interlocked.Increment(ref _currentCount) > MaxEntries)
        {
            // Two generations: the older half is dropped wholesale, no per-entry bookkeeping on the hot path.
            _previous = _current;
            _current = new ConcurrentDictionary<string, (ChatId, long)>(StringComparer.Ordinal);
            Volatile.Write(ref _currentCount, 0);
        }
        _current[messageId] = (chatId, seq);

        if (!_tails.TryGetValue(chatId, out var tail))
        {
            if (Interlocked.Increment(ref _tailCount) > MaxChats)
            {
                _tails.Clear();
                Volatile.Write(ref _tailCount, 0);
            }
            tail = _tails.GetOrAdd(chatId, _ => new Tail());
        }
        lock (tail)
        {
            // Only a contiguous run is useful: a jump (another node wrote in between) restarts the ring.
            if (seq != tail.LastSeq + 1) Array.Clear(tail.Senders);
            tail.Senders[seq % TailLength] = senderId;
            tail.LastSeq = seq;
        }
    }

    public bool TryGet(string messageId, out (ChatId ChatId, long Seq) entry) =>
        _current.TryGetValue(messageId, out entry) || _previous.TryGetValue(messageId, out entry);

    /// <summary>Distinct senders of seq in (from, to] other than one user, when all of them are known here; else null.</summary>
    public IReadOnlyList<UserId>? Senders(ChatId chatId, long fromExclusive, long toInclusive, UserId excludeUserId)
    {
        if (!_tails.TryGetValue(chatId, out var tail)) return null;
        lock (tail)
        {
            if (toInclusive > tail.LastSeq || toInclusive - fromExclusive > TailLength || tail.LastSeq - fromExclusive > TailLength) return null;
            var senders = new List<UserId>(2);
            for (long s = fromExclusive + 1; s <= toInclusive; s++)
            {
                var sender = tail.Senders[s % TailLength];
                if (sender.Value is null) return null;
                if (sender != excludeUserId && !senders.Contains(sender)) senders.Add(sender);
            }
            return senders;
        }
    }
}
