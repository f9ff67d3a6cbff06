using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Core.Groups;

public sealed class GroupService(IGroupStore groups, IUserStore users, IBackplane backplane, IOptions<ChatOptions> options, TimeProvider time)
{
    private readonly int _maxMembers = options.Value.Limits.MaxGroupMembers;

    public async Task<GroupDto> CreateAsync(string creatorId, CreateGroupRequest req, CancellationToken ct)
    {
        string name = CleanName(req.Name) ?? throw ChatException.Invalid("name is required (1-100 characters).");
        string description = Validation.CleanLabel(req.Description, 1000) ?? "";
        // The count is checked before any work on the list (a 100,000-id body must be refused at once).
        if (req.Members is { Count: var count } && count > _maxMembers)
            throw new ChatException(ErrorCodes.GroupFull, $"A group has at most {_maxMembers} members.");
        var memberIds = new List<string> { creatorId };
        var seen = new HashSet<string>(StringComparer.Ordinal) { creatorId };
        foreach (string? id in req.Members ?? [])
        {
            if (id is null) throw ChatException.Invalid("members must be user ids, not null.");
            if (seen.Add(id)) memberIds.Add(id);
        }
        if (memberIds.Count > _maxMembers)
            throw new ChatException(ErrorCodes.GroupFull, $"A group has at most {_maxMembers} members.");
        await RequireUsersExistAsync(memberIds, ct);

        var group = new GroupRecord(Ids.NewId(), name, description, creatorId, time.NowMs(), memberIds, [creatorId]);
        await groups.CreateGroupAsync(group, ct);
        await RecordAsync(memberIds, group.GroupId, "created", memberIds, creatorId, name, ct);
        return ToDto(group);
    }

    /// <summary>The group as a member sees it; 404 for everyone else.</summary>
    public async Task<GroupDto> GetAsync(string userId, string groupId, CancellationToken ct) =>
        ToDto(await GetForMemberAsync(userId, groupId, ct));

    public async Task<GroupDto> UpdateAsync(string userId, string groupId, UpdateGroupRequest req, CancellationToken ct)
    {
        var group = await GetForMemberAsync(userId, groupId, ct);
        RequireAdmin(group, userId);
        string? name = req.Name is null ? null : CleanName(req.Name) ?? throw ChatException.Invalid("name must be 1-100 characters.");
        string? description = req.Description is null ? null : req.Description.Length <= 1000 ? Validation.CleanLabel(req.Description, 1000)
            : throw ChatException.Invalid("description is at most 1000 characters.");
        if (name is null && description is null) throw ChatException.Invalid("Nothing to update: give name and/or description.");
        await groups.UpdateGroupAsync(groupId, name, description, ct);
        await RecordAsync(group.Members, groupId, "updated", [], userId, name, ct);
        return ToDto(group with { Name = name ?? group.Name, Description = description ?? group.Description });
    }

    public async Task<GroupDto> AddMembersAsync(string userId, string groupId, AddMembersRequest req, CancellationToken ct)
    {
        var group = await GetForMemberAsync(userId, groupId, ct);
        RequireAdmin(group, userId);
        if (req.UserIds is not { Count: > 0 }) throw ChatException.Invalid("user_ids is required.");
        if (req.UserIds.Count > _maxMembers) throw new ChatException(ErrorCodes.GroupFull, $"A group has at most {_maxMembers} members.");
        if (req.UserIds.Any(id => id is null)) throw ChatException.Invalid("user_ids must be user ids, not null.");
        var ids = req.UserIds.Distinct(StringComparer.Ordinal).ToList();
        await RequireUsersExistAsync(ids, ct);
        var added = await groups.AddMembersAsync(groupId, ids, _maxMembers, time.NowMs(), ct)
            ?? throw new ChatException(ErrorCodes.GroupFull, $"A group has at most {_maxMembers} members.");
        await backplane.InvalidateChatAsync(new ChatId(groupId), ct);
        var updated = await groups.GetGroupAsync(groupId, ct) ?? throw ChatException.NotFound("Group");
        if (added.Count > 0) await RecordAsync(updated.Members, groupId, "member_added", added, userId, null, ct);
        return ToDto(updated);
    }

    /// <summary>An admin removes anyone; anyone removes themself (leave).</summary>
    public async Task RemoveMemberAsync(string userId, string groupId, string memberId, CancellationToken ct)
    {
        var group = await GetForMemberAsync(userId, groupId, ct);
        if (memberId != userId) RequireAdmin(group, userId);
        if (!await groups.RemoveMemberAsync(groupId, memberId, ct)) throw ChatException.NotFound("Member");
        await backplane.InvalidateChatAsync(new ChatId(groupId), ct);
        // The removed user hears about it too, then nothing more.
        await RecordAsync(group.Members, groupId, "member_removed", [memberId], userId, null, ct);
    }

    /// <summary>Admins make members admins; ids that are not members: 400, nothing changed.</summary>
    public async Task<GroupDto> AddAdminsAsync(string userId, string groupId, AddMembersRequest req, CancellationToken ct)
    {
        var group = await GetForMemberAsync(userId, groupId, ct);
        RequireAdmin(group, userId);
        if (req.UserIds is not { Count: > 0 }) throw ChatException.Invalid("user_ids is required.");
        var ids = req.UserIds.Distinct(StringComparer.Ordinal).ToList();
        if (ids.Any(id => !group.Members.Contains(id))) throw ChatException.Invalid("Every user_id must be a member of the group.");
        var promoted = new List<string>();
        foreach (string id in ids)
            if (await groups.SetAdminAsync(groupId, id, admin: true, ct) == AdminChange.Changed) promoted.Add(id);
        var updated = await groups.GetGroupAsync(groupId, ct) ?? throw ChatException.NotFound("Group");
        if (promoted.Count > 0) await RecordAsync(updated.Members, groupId, "admin_added", promoted, userId, null, ct);
        return ToDto(updated);
    }

    /// <summary>Admins take the admin role away (their own too); the last admin keeps it (409 conflict).</summary>
    public async Task<GroupDto> RemoveAdminAsync(string userId, string groupId, string adminId, CancellationToken ct)
    {
        var group = await GetForMemberAsync(userId, groupId, ct);
        RequireAdmin(group, userId);
        var change = await groups.SetAdminAsync(groupId, adminId, admin: false, ct);
        if (change == AdminChange.NotMember) throw ChatException.NotFound("Member");
        if (change == AdminChange.LastAdmin) throw new ChatException(ErrorCodes.Conflict, "A group keeps at least one admin.");
        var updated = await groups.GetGroupAsync(groupId, ct) ?? throw ChatException.NotFound("Group");
        if (change == AdminChange.Changed) await RecordAsync(updated.Members, groupId, "admin_removed", [adminId], userId, null, ct);
        return ToDto(updated);
    }

    /// <summary>The group's timeline events; members only.</summary>
    public async Task<GroupEventsResponse> GetEventsAsync(string userId, string groupId, int? limit, long? afterSeq, long? beforeSeq, CancellationToken ct)
    {
        await GetForMemberAsync(userId, groupId, ct);
        if (afterSeq is not null && beforeSeq is not null) throw ChatException.Invalid("Give after_seq or before_seq, not both.");
        if (afterSeq < 0 || beforeSeq < 0) throw ChatException.Invalid("after_seq and before_seq are 0 or more.");
        int take = limit ?? 50;
        if (take is < 1 or > 100) throw ChatException.Invalid("limit must be 1-100.");
        var events = await groups.GetGroupEventsAsync(groupId, take + 1, afterSeq, beforeSeq, ct);
        var page = events.Take(take).Select(e => new GroupEventDto(e.EventId, e.Action, e.UserIds, e.By, e.Name, e.Timestamp, e.AfterSeq)).ToList();
        return new GroupEventsResponse(page, events.Count > take);
    }

    private async Task<GroupRecord> GetForMemberAsync(string userId, string groupId, CancellationToken ct)
    {
        if (!ChatRef.TryParse(groupId, out var chat) || chat.IsDirect) throw ChatException.NotFound("Group");
        var group = await groups.GetGroupAsync(groupId, ct);
        if (group is null || !group.Members.Contains(userId)) throw ChatException.NotFound("Group");
        return group;
    }

    private static void RequireAdmin(GroupRecord group, string userId)
    {
        if (!group.Admins.Contains(userId)) throw ChatException.Forbidden("Only group admins can do that.");
    }

    private async Task RequireUsersExistAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        foreach (string id in ids)
            if (string.IsNullOrEmpty(id) || id.Contains('_')) throw ChatException.Invalid($"'{id}' is not a user id.");
        var found = await users.GetUsersAsync(ids, ct);
        if (found.Count != ids.Count) throw ChatException.Invalid("Some user_ids do not exist.");
    }

    /// <summary>Stores the change in the group's timeline, then tells the members (the stored event is the source of truth on every node).</summary>
    private async Task RecordAsync(IReadOnlyList<string> recipients, string groupId, string action, IReadOnlyList<string> userIds, string by, string? name, CancellationToken ct)
    {
        var evt = await groups.AppendGroupEventAsync(new GroupEventRecord(Ids.NewId(), groupId, action, userIds, by, name, time.NowMs(), 0), ct);
        byte[] frame = Frames.Encode(new GroupUpdateFrame(groupId, action, userIds, by, evt.EventId, evt.Timestamp, evt.AfterSeq, name));
        await backplane.SendToUsersAsync(UserId.From(recipients), new OutboundEvent(frame), ct);
    }

    // Too long is refused rather than cut, so a rejected rename changes nothing.
    private static string? CleanName(string? name) =>
        name is { Length: <= 400 } && Validation.CleanLabel(name, 101) is { Length: > 0 and <= 100 } n ? n : null;

    private static GroupDto ToDto(GroupRecord g) => new(g.GroupId, g.Name, g.Description, g.CreatedBy, g.CreatedAt, g.Members, g.Admins);
}
