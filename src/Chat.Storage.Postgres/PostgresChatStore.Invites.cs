using Chat.Core.Storage;
using Npgsql;

namespace Chat.Storage.Postgres;

// Admin-made invites (Chat:Auth:Registration=invite). Taking a use is one guarded UPDATE: concurrent registrations
// queue on the invite's row lock and each re-checks uses < max_uses against the committed count.
public sealed partial class PostgresChatStore
{
    private const string InviteCols = "invite_id, code_hash, created_by, created_at, expires_at, max_uses, uses";
    private static InviteRecord ReadInvite(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt32(5), r.GetInt32(6));

    public Task CreateInviteAsync(InviteRecord i, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO invites({InviteCols}) VALUES($1, $2, $3, $4, $5, $6, $7)", ct,
            Text(i.InviteId), Text(i.CodeHash), Text(i.CreatedBy), Long(i.CreatedAt), Long(i.ExpiresAt), Int(i.MaxUses), Int(i.Uses));

    public async Task<InviteRecord?> FindUsableInviteAsync(string codeHash, long now, CancellationToken ct) =>
        (await QueryAsync($"SELECT {InviteCols} FROM invites WHERE code_hash=$1 AND expires_at>$2 AND uses<max_uses", ReadInvite, ct,
            Text(codeHash), Long(now))).FirstOrDefault();

    public async Task<IReadOnlyList<InviteRecord>> ListUsableInvitesAsync(long now, CancellationToken ct) =>
        await QueryAsync($"SELECT {InviteCols} FROM invites WHERE expires_at>$1 AND uses<max_uses ORDER BY created_at, invite_id", ReadInvite, ct, Long(now));

    public async Task<bool> DeleteInviteAsync(string inviteId, CancellationToken ct) =>
        await ExecuteAsync("DELETE FROM invites WHERE invite_id=$1", ct, Text(inviteId)) == 1;

    public async Task<InviteRegistration> CreateUserWithInviteAsync(UserRecord u, string codeHash, long now, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var use = Cmd(conn, tx, "UPDATE invites SET uses=uses+1 WHERE code_hash=$1 AND expires_at>$2 AND uses<max_uses", Text(codeHash), Long(now)))
            if (await use.ExecuteNonQueryAsync(ct) != 1) return InviteRegistration.InviteNotValid; // rolled back at dispose
        await using (var insert = Cmd(conn, tx, $"INSERT INTO users({UserCols}) VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            Text(u.UserId), Text(u.Username), Text(u.DisplayName), Text(u.PasswordHash), Long(u.CreatedAt)))
            if (await insert.ExecuteNonQueryAsync(ct) != 1) return InviteRegistration.UsernameTaken; // the use is rolled back too
        await tx.CommitAsync(ct);
        return InviteRegistration.Created;
    }
}
