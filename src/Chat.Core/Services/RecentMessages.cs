using System.Collections.Concurrent;

namespace Chat.Core.Services;

/// <summary>message_id → (chat, seq) for recently stored messages, so device acks rarely touch the store.</summary>
public sealed class RecentMessages
{
    private const int MaxEntries = 500_000;
    private ConcurrentDictionary<string, (string ChatId, long Seq)> _current = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, (string ChatId, long Seq)> _previous = new(StringComparer.Ordinal);

    public void Add(string messageId, string chatId, long seq)
    {
        if (_current.Count >= MaxEntries)
        {
            // Two generations: the older half is dropped wholesale, no per-entry bookkeeping on the hot path.
            _previous = _current;
            _current = new ConcurrentDictionary<string, (string, long)>(StringComparer.Ordinal);
        }
        _current[messageId] = (chatId, seq);
    }

    public bool TryGet(string messageId, out (string ChatId, long Seq) entry) =>
        _current.TryGetValue(messageId, out entry) || _previous.TryGetValue(messageId, out entry);
}
