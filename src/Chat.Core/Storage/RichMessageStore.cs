namespace Chat.Core.Storage;

/// <summary>
/// The store side of v1.1 rich messages: edits, tombstones, reactions and per-chat revisions. Every change runs in
/// ONE transaction that also raises the chat's <c>rev</c> by one (the chat row is the lock, as for <c>seq</c>), so revs
/// are gap-free with several writers; a change that does nothing takes no rev. Checked by the store contract kit.
/// </summary>
public interface IRichMessageStore
{
    /// <summary>Replaces the content of the sender's message, keeping the previous version in its edit history.</summary>
    Task<ChangeResult> EditMessageAsync(string chatId, string messageId, string editorId, string content, IReadOnlyList<string> mentions, long now, CancellationToken ct);

    /// <summary>
    /// Makes the message a tombstone: content, file link, reply, mentions, reactions and edit history are erased from
    /// the database. Allowed for the sender and for admins of the chat (only groups have admins).
    /// </summary>
    Task<ChangeResult> DeleteMessageAsync(string chatId, string messageId, string actorId, long now, CancellationToken ct);

    /// <summary>Adds (or removes) one user's reaction; at most <paramref name="maxEmoji"/> distinct emoji per message.</summary>
    Task<ChangeResult> ReactAsync(string chatId, string messageId, string userId, string emoji, bool add, int maxEmoji, CancellationToken ct);

    /// <summary>The chat's current revision (0 when nothing changed, or no such chat).</summary>
    Task<long> GetChatRevAsync(string chatId, CancellationToken ct);

    /// <summary>Messages whose rev is above <paramref name="afterRev"/>, ascending rev.</summary>
    Task<IReadOnlyList<StoredMessage>> GetChangesAsync(string chatId, long afterRev, int limit, CancellationToken ct);

    /// <summary>The message with this id in this chat, or null.</summary>
    Task<StoredMessage?> GetChatMessageAsync(string chatId, string messageId, CancellationToken ct);

    /// <summary>Messages of one chat by seq (for reply previews); missing seqs are left out.</summary>
    Task<IReadOnlyList<StoredMessage>> GetMessagesBySeqAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct);

    /// <summary>Reactions on these messages, ordered by seq, then each emoji's first reaction, then reaction order.</summary>
    Task<IReadOnlyList<ReactionRecord>> GetReactionsAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct);

    /// <summary>The earlier versions of a message, oldest first (none for a deleted one: they are erased).</summary>
    Task<IReadOnlyList<EditRecord>> GetEditsAsync(string chatId, long seq, CancellationToken ct);
}
