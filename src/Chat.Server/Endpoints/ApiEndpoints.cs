using Chat.Core;
using Chat.Core.Auth;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Groups;
using Chat.Core.Messaging;
using Chat.Core.People;
using Chat.Core.Presence;
using Chat.Core.Reads;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>The REST API of PROTOCOL.md (files live in FileEndpoints).</summary>
internal static class ApiEndpoints
{
    public static void MapChatApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        var json = ChatJson.Default;

        // Without a device_name the device is named from its User-Agent, so the devices list tells devices apart.
        api.MapPost("/auth/register", async (RegisterRequest req, AuthService auth, HttpContext http, CancellationToken ct) =>
            Results.Json(await auth.RegisterAsync(req with { DeviceName = req.DeviceName ?? DeviceNames.FromUserAgent(http.Request.Headers.UserAgent) },
                Http.ClientAddress(http), ct), json.AuthResponse, statusCode: 201))
            .Returns<AuthResponse>("Creates an account and signs its first device in.", 201, 400, 403, 409, 429);
        api.MapPost("/auth/login", async (LoginRequest req, AuthService auth, HttpContext http, CancellationToken ct) =>
            Results.Json(await auth.LoginAsync(req with { DeviceName = req.DeviceName ?? DeviceNames.FromUserAgent(http.Request.Headers.UserAgent) },
                Http.ClientAddress(http), ct), json.AuthResponse))
            .Returns<AuthResponse>("Signs a new device in with a username and password.", 200, 400, 401, 429);

        // Anonymous, so a sign-up form knows whether to ask for an invite.
        api.MapGet("/auth/registration", (AuthService auth) => Results.Json(auth.Registration, json.RegistrationDto))
            .Returns<RegistrationDto>("Tells whether registration is open, invite-only or closed.");

        var authed = api.MapGroup("").AddEndpointFilter<RequireDeviceFilter>().Errors(StatusCodes.Status401Unauthorized);
        authed.MapPushApi(); // notifications: PushEndpoints
        authed.MapAdminApi(); // invites: AdminEndpoints
        authed.MapSearchApi();
        authed.MapPeopleApi(); // profile and security: PeopleEndpoints

        authed.MapPost("/auth/logout", async (HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.LogoutAsync(Http.BearerToken(http)!, Http.User(http), ct);
            return Results.NoContent();
        }).ReturnsNothing("Signs the calling device out and closes its sockets.");
        authed.MapGet("/devices", async (HttpContext http, IUserStore users, ConnectionHub hub, TimeProvider time, CancellationToken ct) =>
        {
            var me = Http.User(http);
            var devices = await users.ListDevicesAsync(me.UserId, ct);
            var online = hub.DevicesOf(new UserId(me.UserId)).Select(d => d.DeviceId.Value).ToHashSet(StringComparer.Ordinal);
            return Results.Json(new DeviceList(devices.Select(d =>
                new DeviceDto(d.DeviceId, d.DeviceName, d.CreatedAt, online.Contains(d.DeviceId) ? Chat.Core.Domain.TimeProviderExtensions.NowMs(time) : d.LastActive, online.Contains(d.DeviceId), d.LastActive)).ToList()),
                json.DeviceList);
        }).Returns<DeviceList>("Lists the caller's live devices.");
        authed.MapDelete("/devices/{deviceId}", async (string deviceId, HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.RevokeAsync(Http.User(http).UserId, deviceId, ct);
            return Results.NoContent();
        }).ReturnsNothing("Revokes one of the caller's devices and closes its sockets.", errors: 404);

        authed.MapGet("/users/me", async (HttpContext http, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.GetMeAsync(Http.User(http).UserId, ct), json.MeDto))
            .Returns<MeDto>("The caller's profile and settings.");
        authed.MapGet("/limits", (Microsoft.Extensions.Options.IOptions<ChatOptions> options) =>
            Results.Json(new LimitsDto(options.Value.Limits.MaxContentBytes, options.Value.Limits.MaxFileBytes), json.LimitsDto))
            .Returns<LimitsDto>("The server's content and file size limits.");
        authed.MapGet("/users/{userId}", async (string userId, HttpContext http, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.GetUserAsync(Http.User(http).UserId, userId, ct), json.UserDto))
            .Returns<UserDto>("One user's profile, status and last seen.", errors: 404);
        authed.MapGet("/users", async (string? username, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.FindUsersAsync(username, ct), json.UserList))
            .Returns<UserList>("Finds a user by exact username.", errors: 400);
        authed.MapGet("/presence", async (string? user_ids, HttpContext http, PresenceService presence, CancellationToken ct) =>
        {
            var ids = (user_ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            if (ids.Count == 0) throw ChatException.Invalid("user_ids is required.");
            if (ids.Count > 500) throw ChatException.Invalid("At most 500 user_ids.");
            return Results.Json(new PresenceList(await presence.GetAsync(Http.User(http).UserId, ids, ct)), json.PresenceList);
        }).Returns<PresenceList>("The presence of up to 500 users.", errors: 400);
        authed.MapGet("/users/{userId}/chats", async (string userId, int? limit, long? before, HttpContext http, ChatListService chats, CancellationToken ct) =>
        {
            if (userId != Http.User(http).UserId) throw ChatException.Forbidden("You can only list your own chats.");
            return Results.Json(await chats.ListChatsAsync(userId, limit, before, ct), json.ChatList);
        }).Returns<ChatList>("The caller's chats, most recently updated first.", errors: [400, 403]);

        authed.MapPost("/chats/direct", async (DirectChatRequest req, HttpContext http, ChatListService chats, CancellationToken ct) =>
            Results.Json(await chats.DirectChatAsync(Http.User(http).UserId, req.UserId, ct), json.ChatIdResponse))
            .Returns<ChatIdResponse>("Opens the direct chat with a user, or finds the existing one.", errors: [400, 404]);
        authed.MapGet("/chats/{chatId}/messages", async (string chatId, long? before, long? before_seq, long? after_seq, int? limit,
            HttpContext http, HistoryService history, CancellationToken ct) =>
            Results.Json(await history.GetHistoryAsync(new UserId(Http.User(http).UserId), chatId, before, before_seq, after_seq, limit, ct), json.MessagePage))
            .Returns<MessagePage>("A page of a chat's history.", errors: [400, 404]);
        authed.MapGet("/chats/{chatId}/receipts", async (string chatId, HttpContext http, ReadService reads, CancellationToken ct) =>
            Results.Json(await reads.GetReceiptsAsync(new UserId(Http.User(http).UserId), chatId, ct), json.ReceiptList))
            .Returns<ReceiptList>("Each current member's delivered and read positions in a chat.", errors: 404);
        authed.MapPost("/chats/{chatId}/read", async (string chatId, ReadRequest req, HttpContext http, ReadService reads, CancellationToken ct) =>
        {
            var me = Http.User(http);
            await reads.ReadAsync(new UserId(me.UserId), new DeviceId(me.DeviceId), chatId, req.Seq, req.MessageId, NonMember.NotFound, ct);
            return Results.NoContent();
        }).ReturnsNothing("Marks a chat read up to a message.", errors: [400, 404]);

        authed.MapMessageApi();

        authed.MapPost("/groups", async (CreateGroupRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.CreateAsync(Http.User(http).UserId, req, ct), json.GroupDto, statusCode: 201))
            .Returns<GroupDto>("Creates a group with the caller as its admin.", 201, 400, 404);
        authed.MapGet("/groups/{groupId}", async (string groupId, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.GetAsync(Http.User(http).UserId, groupId, ct), json.GroupDto))
            .Returns<GroupDto>("A group's name, settings and members.", errors: 404);
        authed.MapPatch("/groups/{groupId}", async (string groupId, UpdateGroupRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.UpdateAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto))
            .Returns<GroupDto>("Changes a group's name or settings (admins only).", errors: [400, 403, 404]);
        authed.MapPost("/groups/{groupId}/members", async (string groupId, AddMembersRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.AddMembersAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto))
            .Returns<GroupDto>("Adds members to a group.", errors: [400, 403, 404]);
        authed.MapDelete("/groups/{groupId}/members/{userId}", async (string groupId, string userId, HttpContext http, GroupService groups, CancellationToken ct) =>
        {
            await groups.RemoveMemberAsync(Http.User(http).UserId, groupId, userId, ct);
            return Results.NoContent();
        }).ReturnsNothing("Removes a member from a group, or leaves it.", errors: [403, 404]);
        authed.MapPost("/groups/{groupId}/admins", async (string groupId, AddMembersRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.AddAdminsAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto))
            .Returns<GroupDto>("Makes members admins of a group (admins only).", errors: [400, 403, 404]);
        authed.MapDelete("/groups/{groupId}/admins/{userId}", async (string groupId, string userId, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.RemoveAdminAsync(Http.User(http).UserId, groupId, userId, ct), json.GroupDto))
            .Returns<GroupDto>("Takes a member's admin role away (admins only).", errors: [403, 404, 409]);
        authed.MapGet("/groups/{groupId}/events", async (string groupId, int? limit, long? after_seq, long? before_seq, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.GetEventsAsync(Http.User(http).UserId, groupId, limit, after_seq, before_seq, ct), json.GroupEventsResponse))
            .Returns<GroupEventsResponse>("A group's timeline of membership and settings changes.", errors: [400, 404]);
    }
}
