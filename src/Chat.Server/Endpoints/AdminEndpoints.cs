using Chat.Core.Auth;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>Server admin endpoints (Chat:Auth:Admins): invites for invite-only registration. Everyone else gets 403.</summary>
internal static class AdminEndpoints
{
    public static void MapAdminApi(this RouteGroupBuilder authed)
    {
        var json = ChatJson.Default;
        authed.MapPost("/admin/invites", async (CreateInviteRequest req, HttpContext http, AuthService auth, CancellationToken ct) =>
            Results.Json(await auth.CreateInviteAsync(Http.User(http), req, ct), json.InviteCreatedDto, statusCode: 201))
            .Returns<InviteCreatedDto>("Creates an invite code (server admins only).", 201, 400, 403);
        authed.MapGet("/admin/invites", async (HttpContext http, AuthService auth, CancellationToken ct) =>
            Results.Json(await auth.ListInvitesAsync(Http.User(http), ct), json.InviteList))
            .Returns<InviteList>("Lists the invites still usable, oldest first (server admins only).", errors: 403);
        authed.MapDelete("/admin/invites/{inviteId}", async (string inviteId, HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.DeleteInviteAsync(Http.User(http), inviteId, ct);
            return Results.NoContent();
        }).ReturnsNothing("Deletes an invite (server admins only).", errors: [403, 404]);
    }
}
