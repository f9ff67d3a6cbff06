using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>
/// The v1.1 parts of a message object: reply preview and reactions. Cheap for a plain message: reactions are read only
/// for messages that changed (rev &gt; 0; every reaction raises rev) and previews only for replies, so a new message
/// without a reply costs no query here.
/// </summary>
public sealed class MessageViews(IRichMessageStore store)
{
    /// <summary>The extras of one message.</summary>
    public sealed record Extras(ReplyPreview? ReplyTo, IReadOnlyList<ReactionDto> Reactions)
    {
        public static readonly Extras None = new(null, []);
    }

    /// <summary>Extras by seq for rows of one chat; messages without any are absent (use <see cref="Extras.None"/>).</summary>
    public async ValueTask<IReadOnlyDictionary<long, Extras>> LoadAsync(string chatId, IReadOnlyList<StoredMessage> rows, CancellationToken ct)
    {
        var changed = new List<long>();
        var replies = new List<long>();
        foreach (var m in rows)
        {
            if (m.Deleted) continue;
            if (m.Rev > 0) changed.Add(m.Seq);
            if (m.ReplyToSeq is { } r) replies.Add(r);
        }
        if (changed.Count == 0 && replies.Count == 0) return Empty;

        var reactions = new Dictionary<long, List<ReactionDto>>();
        if (changed.Count > 0)
        {
            // Rows come ordered by seq then rev: an emoji's first row is its first reaction, users follow in reaction order.
            foreach (var group in (await store.GetReactionsAsync(chatId, changed, ct)).GroupBy(r => r.Seq))
                reactions[group.Key] = group.GroupBy(r => r.Emoji, StringComparer.Ordinal)
                    .Select(e => new ReactionDto(e.Key, e.Count(), e.Select(r => r.UserId).ToList())).ToList();
        }
        var targets = replies.Count == 0 ? [] : (await store.GetMessagesBySeqAsync(chatId, replies, ct)).ToDictionary(t => t.Seq);

        var result = new Dictionary<long, Extras>();
        foreach (var m in rows)
        {
            if (m.Deleted) continue;
            ReplyPreview? reply = m.ReplyToSeq is { } r && targets.TryGetValue(r, out var t) ? Preview(t) : null;
            var mine = reactions.TryGetValue(m.Seq, out var list) ? list : (IReadOnlyList<ReactionDto>)[];
            if (reply is not null || mine.Count > 0) result[m.Seq] = new Extras(reply, mine);
        }
        return result;
    }

    public async ValueTask<Extras> LoadOneAsync(StoredMessage m, CancellationToken ct) =>
        m.Deleted || (m.Rev == 0 && m.ReplyToSeq is null) ? Extras.None
            : (await LoadAsync(m.ChatId, [m], ct)).GetValueOrDefault(m.Seq, Extras.None);

    public static ReplyPreview Preview(StoredMessage t) =>
        new(t.MessageId, t.Seq, t.SenderId, t.Deleted ? "" : Cut(t.Content), t.Deleted);

    private static string Cut(string content)
    {
        if (content.Length <= ReplyPreview.MaxContentChars) return content;
        int end = ReplyPreview.MaxContentChars;
        if (char.IsHighSurrogate(content[end - 1])) end--; // never split a surrogate pair
        return content[..end];
    }

    private static readonly IReadOnlyDictionary<long, Extras> Empty = new Dictionary<long, Extras>();

    public static MessageFrame Frame(StoredMessage m, AttachmentInfo? attachment, Extras x) =>
        new(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, m.ClientMsgId, attachment)
        {
            Rev = m.Rev,
            EditedAt = m.EditedAt,
            Deleted = m.Deleted,
            ReplyTo = x.ReplyTo,
            Reactions = x.Reactions,
            Mentions = m.Mentions,
        };

    public static MessageObject Object(StoredMessage m, AttachmentInfo? attachment, Extras x) =>
        new(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, m.ClientMsgId, attachment)
        {
            Rev = m.Rev,
            EditedAt = m.EditedAt,
            Deleted = m.Deleted,
            ReplyTo = x.ReplyTo,
            Reactions = x.Reactions,
            Mentions = m.Mentions,
        };

    public static MessageDto Dto(MessageDto v1, StoredMessage m, Extras x) =>
        v1 with { Rev = m.Rev, EditedAt = m.EditedAt, Deleted = m.Deleted, ReplyTo = x.ReplyTo, Reactions = x.Reactions, Mentions = m.Mentions };

    public static LastMessageDto Last(StoredMessage m, Extras x) =>
        new(m.MessageId, m.Seq, m.SenderId, m.Content, m.Timestamp)
        {
            Rev = m.Rev,
            EditedAt = m.EditedAt,
            Deleted = m.Deleted,
            ReplyTo = x.ReplyTo,
            Reactions = x.Reactions,
            Mentions = m.Mentions,
        };
}
