using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.People;
using Chat.Core.Storage;

namespace Chat.Core.Messaging;

/// <summary>
/// <c>is_read</c> and <c>status</c> of messages of one chat as one member sees them, derived from the members'
/// pointers (never from per-message rows): the one rule for history pages (<see cref="HistoryService"/>) and search.
/// </summary>
public sealed class MessageTicks
{
    private readonly string _user;
    private readonly long _minRead, _maxRead, _minDelivered, _myRead;
    private readonly bool _alone;

    public MessageTicks(ChatMembers members, IReadOnlyList<MemberPointers> all, UserId user)
    {
        _user = user.Value;
        var others = all.Where(p => p.UserId != _user && members.Contains(new UserId(p.UserId))).ToList();
        int missing = members.Members.Count(m => m != user) - others.Count; // members with no pointer row yet: 0
        // Receipts count against the members at send time: a member who joined at seq J counts as having read up to J,
        // so a ✓✓ never turns back into ✓ when someone joins later.
        _minRead = missing > 0 || others.Count == 0 ? 0 : others.Min(p => Math.Max(p.ReadSeq, p.JoinedSeq));
        _maxRead = others.Count == 0 ? 0 : others.Max(p => p.ReadSeq);
        _minDelivered = missing > 0 || others.Count == 0 ? 0 : others.Min(p => Math.Max(Math.Max(p.DeliveredSeq, p.ReadSeq), p.JoinedSeq));
        _myRead = all.FirstOrDefault(p => p.UserId == _user)?.ReadSeq ?? 0;
        _alone = members.Members.All(m => m == user);
    }

    /// <summary>The ticks of a chat for <paramref name="user"/>, through the privacy rules (silent readers count as delivered).</summary>
    public static async Task<MessageTicks> LoadAsync(ChatMembers members, UserId user, IPointerStore pointers, PrivacyRules privacy, CancellationToken ct) =>
        new(members, await privacy.VisiblePointersAsync(await pointers.GetPointersAsync(members.ChatId.Value, ct), user.Value, ct), user);

    public (bool IsRead, string? Status) Of(StoredMessage m)
    {
        if (m.SenderId != _user) return (m.Seq <= _myRead, null);
        string status = _alone ? "sent" : m.Seq <= _minRead ? "read" : m.Seq <= _minDelivered ? "delivered" : "sent";
        return (!_alone && m.Seq <= _maxRead, status);
    }
}
