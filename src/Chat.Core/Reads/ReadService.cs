using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.People;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Reads;

/// <summary>Read pointers: one per (user, chat), only ever moving forward.</summary>
public sealed class ReadService(
    IMessageStore messages, IPointerStore pointers, MembershipCache membership, RecentMessages recent, IBackplane backplane,
    PrivacyRules privacy, TimeProvider time)
{
    /// <param name="nonMember">REST hides chats the user is not in (<see cref="NonMember.NotFound"/>); the socket says forbidden.</param>
    public async Task ReadAsync(UserId user, DeviceId device, string? chatId, long? seq, string? messageId, NonMember nonMember, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, nonMember, ct);
        var chat = members.ChatId;
        if (seq is null)
        {
            if (string.IsNullOrEmpty(messageId)) throw ChatException.Invalid("seq or message_id is required.");
            if (recent.TryGet(messageId, out var entry)) seq = entry.ChatId == chat ? entry.Seq : null;
            else seq = (await messages.GetMessageAsync(messageId, ct)) is { } m && m.ChatId == chat.Value ? m.Seq : null;
            if (seq is null) throw ChatException.NotFound("Message");
        }
        if (seq < 1) throw ChatException.Invalid("seq must be at least 1.");
        long last = await messages.GetLastSeqAsync(chat.Value, ct);
        long target = Math.Min(seq.Value, last);
        if (target < 1) return;

        long old = await pointers.AdvanceReadAsync(user.Value, chat.Value, target, ct);
        if (target <= old) return;

        var at = await messages.GetMessageBySeqAsync(chat.Value, target, ct);
        if (at is null) return;
        long now = time.NowMs();
        // send_read_receipts=false (v1.1): the reader's own devices still sync, nobody else hears of it.
        bool silent = !(await privacy.SettingsOfAsync(user.Value, ct)).SendReadReceipts;
        var senders = silent ? [] : recent.Senders(chat, old, target, user) ?? UserId.From(await messages.GetSendersAsync(chat.Value, old, target, user.Value, ct));
        if (senders.Count > 0)
        {
            byte[] receipt = Frames.Encode(new ReadReceiptFrame(chat.Value, at.MessageId, at.MessageId, target, user.Value, now));
            await backplane.SendToUsersAsync(senders, new OutboundEvent(receipt), ct);
        }
        byte[] sync = Frames.Encode(new SyncReadFrame(chat.Value, at.MessageId, target));
        await backplane.SendToUsersAsync([user], new OutboundEvent(sync, ExcludeDeviceId: device), ct);
    }

    public async Task<ReceiptList> GetReceiptsAsync(UserId user, string chatId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        var all = await pointers.GetPointersAsync(members.ChatId.Value, ct);
        var byUser = (await privacy.VisiblePointersAsync(all, user.Value, ct)).ToDictionary(p => p.UserId);
        return new ReceiptList(members.Members.Select(id => byUser.TryGetValue(id.Value, out var p)
            ? new MemberReceiptDto(id.Value, p.DeliveredSeq, p.ReadSeq)
            : new MemberReceiptDto(id.Value, 0, 0)).ToList());
    }
}
