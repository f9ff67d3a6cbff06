using Chat.Core.Domain;
using Chat.Core.Storage;

namespace Chat.Tests.Storage;

// The invite part of the store contract (Chat:Auth:Registration=invite), run on SQLite and PostgreSQL like the rest.
public abstract partial class StoreContract
{
    private static UserRecord NewUser(string name) => new(Ids.NewId(), $"{name}-{Ids.NewId()[^8..]}", name, "hash", 1_700_000_000_000);

    private async Task<InviteRecord> NewInviteAsync(int maxUses, long expiresAt)
    {
        var invite = new InviteRecord(Ids.NewId(), Ids.HashToken(Ids.NewToken()), "admin", Now(), expiresAt, maxUses, 0);
        await Users.CreateInviteAsync(invite, None);
        return invite;
    }

    [StoreFact]
    public async Task An_invite_admits_as_many_users_as_it_has_uses()
    {
        long now = Now();
        var invite = await NewInviteAsync(2, now + 60_000);
        Assert.Equal(invite, await Users.FindUsableInviteAsync(invite.CodeHash, now, None));
        Assert.Null(await Users.FindUsableInviteAsync(Ids.HashToken("unknown"), now, None));

        var first = NewUser("first");
        Assert.Equal(InviteRegistration.Created, await Users.CreateUserWithInviteAsync(first, invite.CodeHash, now, None));
        Assert.Equal(first, await Users.FindByUsernameAsync(first.Username, None));
        Assert.Equal(1, (await Users.FindUsableInviteAsync(invite.CodeHash, now, None))!.Uses);
        Assert.Equal([invite with { Uses = 1 }], await Users.ListUsableInvitesAsync(now, None));

        Assert.Equal(InviteRegistration.Created, await Users.CreateUserWithInviteAsync(NewUser("second"), invite.CodeHash, now, None));
        var third = NewUser("third");
        Assert.Equal(InviteRegistration.InviteNotValid, await Users.CreateUserWithInviteAsync(third, invite.CodeHash, now, None));
        Assert.Null(await Users.FindByUsernameAsync(third.Username, None)); // refused whole: no user without a use
        Assert.Null(await Users.FindUsableInviteAsync(invite.CodeHash, now, None));
        Assert.Empty(await Users.ListUsableInvitesAsync(now, None));
    }

    [StoreFact]
    public async Task A_taken_username_leaves_the_invite_unused()
    {
        long now = Now();
        var invite = await NewInviteAsync(1, now + 60_000);
        var existing = NewUser("taken");
        Assert.True(await Users.CreateUserAsync(existing, None));
        Assert.Equal(InviteRegistration.UsernameTaken, await Users.CreateUserWithInviteAsync(existing with { UserId = Ids.NewId() }, invite.CodeHash, now, None));
        Assert.Equal(0, (await Users.FindUsableInviteAsync(invite.CodeHash, now, None))!.Uses);
        Assert.Equal(InviteRegistration.Created, await Users.CreateUserWithInviteAsync(NewUser("fresh"), invite.CodeHash, now, None));
    }

    [StoreFact]
    public async Task An_invite_stops_admitting_at_its_expiry_and_when_deleted()
    {
        long now = Now();
        var expiring = await NewInviteAsync(5, now + 1000);
        var deleted = await NewInviteAsync(5, now + 60_000);
        Assert.Equal(2, (await Users.ListUsableInvitesAsync(now, None)).Count);
        Assert.NotNull(await Users.FindUsableInviteAsync(expiring.CodeHash, now + 999, None));
        Assert.Null(await Users.FindUsableInviteAsync(expiring.CodeHash, now + 1000, None));
        Assert.Equal(InviteRegistration.InviteNotValid, await Users.CreateUserWithInviteAsync(NewUser("late"), expiring.CodeHash, now + 1000, None));
        Assert.Equal([deleted], await Users.ListUsableInvitesAsync(now + 1000, None));

        Assert.True(await Users.DeleteInviteAsync(deleted.InviteId, None));
        Assert.False(await Users.DeleteInviteAsync(deleted.InviteId, None));
        Assert.Equal(InviteRegistration.InviteNotValid, await Users.CreateUserWithInviteAsync(NewUser("gone"), deleted.CodeHash, now, None));
        Assert.Equal([expiring], await Users.ListUsableInvitesAsync(now, None));
    }

    [StoreFact]
    public async Task Concurrent_registrations_take_each_use_once_across_instances()
    {
        long now = Now();
        var invite = await NewInviteAsync(1, now + 60_000);
        IUserStore other = await OpenSecondAsync() ?? _store;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => (i % 2 == 0 ? Users : other).CreateUserWithInviteAsync(NewUser($"race{i}"), invite.CodeHash, now, None))));
        Assert.Equal(1, outcomes.Count(o => o == InviteRegistration.Created));
        Assert.All(outcomes.Where(o => o != InviteRegistration.Created), o => Assert.Equal(InviteRegistration.InviteNotValid, o));
        Assert.Null(await Users.FindUsableInviteAsync(invite.CodeHash, now, None));
    }
}
