using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

/// <summary>
/// What the hot path needs to know about recently stored messages without asking the store:
/// message_id → (chat, seq) for device acks, and each chat's last few (seq, sender) for receipts.
/// </summary>
public sealed class RecentMessages(IOptions<ChatOptions> options, ChatMetrics metrics)
{
    private const int TailLength = 32;

    private readonly BoundedCache<string, (ChatId ChatId, long Seq)> _messages =
        new("recent_messages", options.Value.Caches.RecentMessages, metrics, StringComparer.Ordinal);
    private readonly BoundedCache<ChatId, Tail> _tails = new("recent_chats", options.Value.Caches.RecentChats, metrics);

    /// <summary>The last <see cref="TailLength"/> senders of a chat, by seq (a ring).</summary>
    private sealed class Tail
    {
        public readonly UserId[] Senders = new UserId[TailLength]; // default(UserId) = not known
        public long LastSeq;
    }

    public void Add(string messageId, ChatId chatId, long seq, UserId senderId)
    {
        _messages.Set(messageId, (chatId, seq));
        // An evicted tail only restarts its ring: the next receipts for that chat ask the store once.
        var tail = _tails.GetOrAdd(chatId, static _ => new Tail());
        lock (tail)
        {
            // Only a contiguous run is useful: a jump (another node wrote in between) restarts the ring.
            if (seq != tail.LastSeq + 1) Array.Clear(tail.Senders);
            tail.Senders[seq % TailLength] = senderId;
            tail.LastSeq = seq;
        }
    }

    public bool TryGet(string messageId, out (ChatId ChatId, long Seq) entry) => _messages.TryGetValue(messageId, out entry);

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
