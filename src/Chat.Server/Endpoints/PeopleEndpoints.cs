using Chat.Core.Auth;
using Chat.Core.People;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>Profile and security (PROTOCOL.md v1.1): display name, password, device names, signing other devices out, blocking.</summary>
internal static class PeopleEndpoints
{
    public static void MapPeopleApi(this RouteGroupBuilder authed)
    {
        var json = ChatJson.Default;
        authed.MapPatch("/users/me", async (UpdateMeRequest req, HttpContext http, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.UpdateMeAsync(Http.User(http).UserId, req, ct), json.MeDto))
            .Returns<MeDto>("Changes the caller's display name or settings.", errors: 400);
        authed.MapPost("/auth/password", async (ChangePasswordRequest req, HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.ChangePasswordAsync(Http.User(http), req, ct);
            return Results.NoContent();
        }).ReturnsNothing("Changes the caller's password and signs every other device out.", errors: 400);
        authed.MapPost("/devices/sign-out-others", async (HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.SignOutOthersAsync(Http.User(http), ct);
            return Results.NoContent();
        }).ReturnsNothing("Signs every device of the caller except this one out.");
        authed.MapPatch("/devices/{deviceId}", async (string deviceId, RenameDeviceRequest req, HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.RenameDeviceAsync(Http.User(http).UserId, deviceId, req.DeviceName, ct);
            return Results.NoContent();
        }).ReturnsNothing("Renames one of the caller's live devices.", errors: [400, 404]);
        authed.MapGet("/users/me/blocks", async (HttpContext http, BlockService blocks, CancellationToken ct) =>
            Results.Json(await blocks.ListAsync(Http.User(http).UserId, ct), json.UserList))
            .Returns<UserList>("The users the caller has blocked, oldest block first.");
        authed.MapPost("/users/me/blocks", async (BlockRequest req, HttpContext http, BlockService blocks, CancellationToken ct) =>
        {
            await blocks.BlockAsync(Http.User(http).UserId, req.UserId, ct);
            return Results.NoContent();
        }).ReturnsNothing("Blocks a user.", errors: [400, 404]);
        authed.MapDelete("/users/me/blocks/{userId}", async (string userId, HttpContext http, BlockService blocks, CancellationToken ct) =>
        {
            await blocks.UnblockAsync(Http.User(http).UserId, userId, ct);
            return Results.NoContent();
        }).ReturnsNothing("Unblocks a user.", errors: 404);
    }
}
