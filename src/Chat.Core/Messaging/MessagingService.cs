using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

/// <summary>The validated front of the message path: checks a <c>new_message</c> and hands it to the committer.</summary>
public sealed class MessagingService(
    MembershipCache membership, IRateLimiter rateLimiter, IAttachments attachments,
    MessageCommitter committer, IMessageStore messages, IOptions<ChatOptions> options, TimeProvider time,
    MentionResolver mentions, IRichMessageStore rich)
{
    private readonly int _maxContentBytes = options.Value.Limits.MaxContentBytes;

    /// <summary>Validates and queues the message; the ack (or an error frame) reaches the sender's socket after the commit.</summary>
    public async ValueTask SendAsync(IDeviceSink sender, ClientFrame frame, CancellationToken ct)
    {
        if (!Validation.IsValidClientMsgId(frame.ClientMsgId))
            throw ChatException.Invalid("client_msg_id is required (1-64 characters).");
        if (string.IsNullOrEmpty(frame.ChatId)) throw ChatException.Invalid("chat_id is required.");
        string? fileId = frame.Attachment?.FileId;
        if (frame.Attachment is not null && string.IsNullOrEmpty(fileId)) throw ChatException.Invalid("attachment.file_id is required.");
        string content = frame.Content ?? "";
        if (content.Length == 0 && fileId is null) throw ChatException.Invalid("content is required (it may be empty only with an attachment).");
        if (content.Length > _maxContentBytes / 3 && Validation.Utf8Length(content) > _maxContentBytes)
            throw new ChatException(ErrorCodes.ContentTooLarge, $"content is larger than {_maxContentBytes} bytes.");

        var members = await membership.RequireMemberAsync(frame.ChatId, sender.UserId, NonMember.Forbidden, ct);
        string userId = sender.UserId.Value;
        string? peer = null;
        if (!members.IsGroup)
        {
            _ = ChatRef.TryParse(members.ChatId.Value, out var chat);
            peer = chat.Other(userId)!;
            // v1.1 blocking: the peer refuses this sender's messages (cached with the members, dropped on every node by a block).
            if (members.IsBlockedSender(sender.UserId))
                throw ChatException.Forbidden("You cannot send messages to this user.");
        }
        if (fileId is not null) await attachments.EnsureAttachableAsync(fileId, userId, ct);

        var decision = await rateLimiter.TryAcquireAsync(userId, ct);
        // A retry of a message that is already stored is not a new message: it still gets its original ack.
        if (!decision.Allowed && await messages.FindSentAsync(userId, frame.ClientMsgId!, ct) is null)
            throw new ChatException(ErrorCodes.RateLimited, "Too many messages; slow down.", decision.RetryAfterMs);

        // v1.1: a reply names a message of the same chat (a deleted one too); mentions cost a lookup only with an '@'.
        long? replyToSeq = null;
        if (frame.ReplyTo is not null)
        {
            var target = frame.ReplyTo.Length == 0 ? null : await rich.GetChatMessageAsync(members.ChatId.Value, frame.ReplyTo, ct);
            replyToSeq = target?.Seq ?? throw ChatException.Invalid("reply_to must be a message of this chat.");
        }
        var mentioned = await mentions.ResolveAsync(content, members, ct);

        var message = new NewMessage(
            Ids.NewMessageId(), members.ChatId.Value, userId, sender.DeviceId.Value, frame.ClientMsgId!,
            content, fileId, time.NowMs(), peer)
        {
            ReplyToSeq = replyToSeq,
            Mentions = mentioned,
        };
        try
        {
            await committer.EnqueueAsync(new PendingSend(message, sender), ct);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new ChatException(ErrorCodes.Unavailable, "The server is shutting down; retry on another connection.", 1000);
        }
    }
}
