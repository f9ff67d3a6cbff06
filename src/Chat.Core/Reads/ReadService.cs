using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Reads;

/// <summary>Read pointers: one per (user, chat), only ever moving forward.</summary>
public sealed class ReadService(IMessageStore messages, IPointerStore pointers, MembershipCache membership, RecentMessages recent, IBackplane backplane, TimeProvider time)
{
    /// <param name="viaRest">REST hides chats the user is not in (404); the socket says forbidden.</param>
    public async Task ReadAsync(string userId, string deviceId, string? chatId, long? seq, string? messageId, bool viaRest, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, userId, hideForbidden: viaRest, ct);
        chatId = members.ChatId;
        if (seq is null)
        {
            if (string.IsNullOrEmpty(messageId)) throw ChatException.Invalid("seq or message_id is required.");
            if (recent.TryGet(messageId, out var entry)) seq = entry.ChatId == chatId ? entry.Seq : null;
            else seq = (await messages.GetMessageAsync(messageId, ct)) is { } m && m.ChatId == chatId ? m.Seq : null;
            if (seq is null) throw ChatException.NotFound("Message");
        }
        if (seq < 1) throw ChatException.Invalid("seq must be at least 1.");
        long last = await messages.GetLastSeqAsync(chatId, ct);
        long target = Math.Min(seq.Value, last);
        if (target < 1) return;

        long old = await pointers.AdvanceReadAsync(userId, chatId, target, ct);
        if (target <= old) return;

        var at = await messages.GetMessageBySeqAsync(chatId, target, ct);
        if (at is null) return;
        long now = time.NowMs();
        var senders = recent.Senders(chatId, old, target, userId) ?? await messages.GetSendersAsync(chatId, old, target, userId, ct);
        if (senders.Count > 0)
        {
            byte[] receipt = Frames.Encode(new ReadReceiptFrame(chatId, at.MessageId, at.MessageId, target, userId, now));
            await backplane.SendToUsersAsync(senders, new OutboundEvent(receipt), ct);
        }
        byte[] sync = Frames.Encode(new SyncReadFrame(chatId, at.MessageId, target));
        await backplane.SendToUsersAsync([userId], new OutboundEvent(sync, ExcludeDeviceId: deviceId), ct);
    }

    public async Task<ReceiptList> GetReceiptsAsync(string userId, string chatId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, userId, hideForbidden: true, ct);
        var byUser = (await pointers.GetPointersAsync(members.ChatId, ct)).ToDictionary(p => p.UserId);
        return new ReceiptList(members.Members.Select(id => byUser.TryGetValue(id, out var p)
            ? new MemberReceiptDto(id, p.DeliveredSeq, p.ReadSeq)
            : new MemberReceiptDto(id, 0, 0)).ToList());
    }
}
