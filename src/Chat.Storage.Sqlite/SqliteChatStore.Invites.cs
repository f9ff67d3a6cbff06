using Chat.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

// Admin-made invites (Chat:Auth:Registration=invite). The single writer thread serializes taking a use.
public sealed partial class SqliteChatStore
{
    private const string InvitesSchema = """
        CREATE TABLE IF NOT EXISTS invites(
            invite_id TEXT PRIMARY KEY, code_hash TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL, max_uses INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0);
        """;

    private const string InviteCols = "invite_id, code_hash, created_by, created_at, expires_at, max_uses, uses";
    private static InviteRecord ReadInvite(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt32(5), r.GetInt32(6));

    public Task CreateInviteAsync(InviteRecord i, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, $"INSERT INTO invites({InviteCols}) VALUES(@id, @hash, @by, @at, @exp, @max, @uses)", tx,
            ("@id", i.InviteId), ("@hash", i.CodeHash), ("@by", i.CreatedBy), ("@at", i.CreatedAt), ("@exp", i.ExpiresAt), ("@max", i.MaxUses), ("@uses", i.Uses));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<InviteRecord?> FindUsableInviteAsync(string codeHash, long now, CancellationToken ct) =>
        (await QueryAsync($"SELECT {InviteCols} FROM invites WHERE code_hash=@h AND expires_at>@now AND uses<max_uses", ReadInvite, ct,
            ("@h", codeHash), ("@now", now))).FirstOrDefault();

    public async Task<IReadOnlyList<InviteRecord>> ListUsableInvitesAsync(long now, CancellationToken ct) =>
        await QueryAsync($"SELECT {InviteCols} FROM invites WHERE expires_at>@now AND uses<max_uses ORDER BY created_at, invite_id", ReadInvite, ct, ("@now", now));

    public Task<bool> DeleteInviteAsync(string inviteId, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "DELETE FROM invites WHERE invite_id=@id", tx, ("@id", inviteId));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public Task<InviteRegistration> CreateUserWithInviteAsync(UserRecord u, string codeHash, long now, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        // Checked before the use is taken, so a taken username leaves the invite as it was (the transaction commits either way).
        using (var taken = Cmd(c, "SELECT 1 FROM users WHERE username=@n", tx, ("@n", u.Username)))
            if (taken.ExecuteScalar() is not null) return InviteRegistration.UsernameTaken;
        using (var use = Cmd(c, "UPDATE invites SET uses=uses+1 WHERE code_hash=@h AND expires_at>@now AND uses<max_uses", tx, ("@h", codeHash), ("@now", now)))
            if (use.ExecuteNonQuery() != 1) return InviteRegistration.InviteNotValid;
        using var insert = Cmd(c, $"INSERT INTO users({UserCols}) VALUES(@id, @name, @display, @hash, @at)", tx,
            ("@id", u.UserId), ("@name", u.Username), ("@display", u.DisplayName), ("@hash", u.PasswordHash), ("@at", u.CreatedAt));
        insert.ExecuteNonQuery();
        return InviteRegistration.Created;
    }, ct);
}
