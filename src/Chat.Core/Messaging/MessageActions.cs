using System.Text;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

/// <summary>
/// <c>edit_message</c>, <c>delete_message</c>, <c>react</c>/<c>unreact</c> (PROTOCOL.md v1.1): validated here, checked
/// and applied by the store in one transaction that takes the chat's next rev, then sent as <c>message_updated</c> to
/// every member device (the acting one included). Nothing changed: nothing is sent.
/// </summary>
public sealed class MessageActions(
    MembershipCache membership, IRateLimiter rateLimiter, IRichMessageStore store, MentionResolver mentions, MessageViews views,
    IAttachments attachments, IBackplane backplane, IOptions<ChatOptions> options, TimeProvider time)
{
    /// <summary>Distinct emoji one message may carry.</summary>
    public const int MaxEmojiPerMessage = 20;
    public const int MaxEmojiBytes = 64;

    private readonly int _maxContentBytes = options.Value.Limits.MaxContentBytes;

    public async Task EditAsync(UserId user, ClientFrame f, CancellationToken ct)
    {
        string messageId = RequireMessageId(f);
        if (f.Content is null) throw ChatException.Invalid("content is required.");
        string content = f.Content;
        if (content.Length > _maxContentBytes / 3 && Validation.Utf8Length(content) > _maxContentBytes)
            throw new ChatException(ErrorCodes.ContentTooLarge, $"content is larger than {_maxContentBytes} bytes.");
        var members = await membership.RequireMemberAsync(f.ChatId, user, NonMember.Forbidden, ct);
        // Edits share new_message's bucket: editing is writing.
        var decision = await rateLimiter.TryAcquireAsync(user.Value, ct);
        if (!decision.Allowed) throw new ChatException(ErrorCodes.RateLimited, "Too many messages; slow down.", decision.RetryAfterMs);
        var mentioned = await mentions.ResolveAsync(content, members, ct);
        var result = await store.EditMessageAsync(members.ChatId.Value, messageId, user.Value, content, mentioned, time.NowMs(), ct);
        await PublishAsync(members, result, MessageChanges.Edited, user, ct);
    }

    public async Task DeleteAsync(UserId user, ClientFrame f, CancellationToken ct)
    {
        string messageId = RequireMessageId(f);
        var members = await membership.RequireMemberAsync(f.ChatId, user, NonMember.Forbidden, ct);
        var result = await store.DeleteMessageAsync(members.ChatId.Value, messageId, user.Value, time.NowMs(), ct);
        await PublishAsync(members, result, MessageChanges.Deleted, user, ct);
    }

    public async Task ReactAsync(UserId user, ClientFrame f, bool add, CancellationToken ct)
    {
        string messageId = RequireMessageId(f);
        if (!IsValidEmoji(f.Emoji))
            throw ChatException.Invalid($"emoji must be 1-{MaxEmojiBytes} bytes of UTF-8 without whitespace or control characters.");
        var members = await membership.RequireMemberAsync(f.ChatId, user, NonMember.Forbidden, ct);
        var result = await store.ReactAsync(members.ChatId.Value, messageId, user.Value, f.Emoji!, add, MaxEmojiPerMessage, ct);
        await PublishAsync(members, result, MessageChanges.Reaction, user, ct);
    }

    /// <summary>1–64 bytes of UTF-8, well-formed, no whitespace, control, or bidi control characters.</summary>
    public static bool IsValidEmoji(string? emoji)
    {
        if (string.IsNullOrEmpty(emoji) || emoji.Length > MaxEmojiBytes) return false;
        int bytes = 0;
        for (int i = 0; i < emoji.Length;)
        {
            if (Rune.DecodeFromUtf16(emoji.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done) return false;
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune) || (rune.IsBmp && Validation.IsBidiControl((char)rune.Value))) return false;
            bytes += rune.Utf8SequenceLength;
            i += used;
        }
        return bytes <= MaxEmojiBytes;
    }

    private static string RequireMessageId(ClientFrame f)
    {
        if (string.IsNullOrEmpty(f.ChatId)) throw ChatException.Invalid("chat_id is required.");
        if (string.IsNullOrEmpty(f.MessageId)) throw ChatException.Invalid("message_id is required.");
        return f.MessageId;
    }

    private async Task PublishAsync(ChatMembers members, ChangeResult result, string change, UserId by, CancellationToken ct)
    {
        switch (result.Outcome)
        {
            case ChangeOutcome.Unchanged:
                return;
            case ChangeOutcome.NotFound:
                throw ChatException.NotFound("Message");
            case ChangeOutcome.Deleted:
                throw new ChatException(ErrorCodes.Conflict, "The message is deleted.");
            case ChangeOutcome.NotAllowed:
                throw ChatException.Forbidden(change == MessageChanges.Deleted
                    ? "Only the sender or a group admin may delete this message."
                    : "Only the sender may edit this message.");
            case ChangeOutcome.EmptyContent:
                throw ChatException.Invalid("content is required (it may be empty only for a message with an attachment).");
            case ChangeOutcome.TooManyEmoji:
                throw ChatException.Invalid($"A message has at most {MaxEmojiPerMessage} different emoji.");
        }
        var m = result.Message!;
        var extras = await views.LoadOneAsync(m, ct);
        AttachmentInfo? attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, ct);
        byte[] frame = Frames.Encode(new MessageUpdatedFrame(m.ChatId, m.Rev, change, by.Value, MessageViews.Object(m, attachment, extras)));
        // Not a seq event: a device that misses it catches up by rev (chat list, /changes).
        await backplane.SendToUsersAsync(members.Members, new OutboundEvent(frame), CancellationToken.None);
    }
}
