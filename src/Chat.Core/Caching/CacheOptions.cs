using System.ComponentModel.DataAnnotations;

namespace Chat.Core.Caching;

/// <summary>
/// The "Chat:Caches" section: the most entries each in-memory cache holds (see <see cref="BoundedCache{TKey,TValue}"/>).
/// Every cache can be refilled from the store, so a smaller size costs lookups, never correctness.
/// </summary>
public sealed class CacheOptions
{
    /// <summary>Bearer token → device (each entry is re-checked after 5 s anyway).</summary>
    [Range(2, 100_000_000)]
    public int Tokens { get; set; } = 100_000;

    /// <summary>Chat → its members: the hot path of every send, ack, read and typing event.</summary>
    [Range(2, 100_000_000)]
    public int Memberships { get; set; } = 200_000;

    /// <summary>Message id → (chat, seq) of recently stored messages, for device acks and reads by message_id.</summary>
    [Range(2, 100_000_000)]
    public int RecentMessages { get; set; } = 1_000_000;

    /// <summary>Chats whose last few senders are kept, for delivery and read receipts without a query.</summary>
    [Range(2, 100_000_000)]
    public int RecentChats { get; set; } = 200_000;

    /// <summary>Completed file records, described for every recipient and history page.</summary>
    [Range(2, 100_000_000)]
    public int Files { get; set; } = 10_000;

    /// <summary>(user, chat) → the best delivered seq this node knows: delivery receipts go out only when it rises.</summary>
    [Range(2, 100_000_000)]
    public int UserDelivered { get; set; } = 1_000_000;
}
