using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

/// <summary>
/// What the hot path needs to know about recently stored messages without asking the store:
/// message_id → (chat, seq) for device acks, and each chat's last few (seq, sender) for receipts.
/// </summary>
public sealed class RecentMessages(IOptions<ChatOptions> options, ChatMetrics metrics)
{
    private const int TailLength = 32;

    private readonly BoundedCache<string, (string ChatId, long Seq)> _messages =
        new("recent_messages", options.Value.Caches.RecentMessages, metrics, StringComparer.Ordinal);
    private readonly BoundedCache<string, Tail> _tails = new("recent_chats", options.Value.Caches.RecentChats, metrics, StringComparer.Ordinal);

    /// <summary>The last <see cref="TailLength"/> senders of a chat, by seq (a ring).</summary>
    private sealed class Tail
    {
        public readonly string[] Senders = new string[TailLength];
        public long LastSeq;
    }

    public void Add(string messageId, string chatId, long seq, string senderId)
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

    public bool TryGet(string messageId, out (string ChatId, long Seq) entry) => _messages.TryGetValue(messageId, out entry);

    /// <summary>Distinct senders of seq in (from, to] other than one user, when all of them are known here; else null.</summary>
    public IReadOnlyList<string>? Senders(string chatId, long fromExclusive, long toInclusive, string excludeUserId)
    {
        if (!_tails.TryGetValue(chatId, out var tail)) return null;
        lock (tail)
        {
            if (toInclusive > tail.LastSeq || toInclusive - fromExclusive > TailLength || tail.LastSeq - fromExclusive > TailLength) return null;
            var senders = new List<string>(2);
            for (long s = fromExclusive + 1; s <= toInclusive; s++)
            {
                string? sender = tail.Senders[s % TailLength];
                if (sender is null) return null;
                if (sender != excludeUserId && !senders.Contains(sender)) senders.Add(sender);
            }
            return senders;
        }
    }
}
