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
                Http.ClientAddress(http), ct), json.AuthResponse, statusCode: 201));
        api.MapPost("/auth/login", async (LoginRequest req, AuthService auth, HttpContext http, CancellationToken ct) =>
            Results.Json(await auth.LoginAsync(req with { DeviceName = req.DeviceName ?? DeviceNames.FromUserAgent(http.Request.Headers.UserAgent) },
                Http.ClientAddress(http), ct), json.AuthResponse));

        // Anonymous, so a sign-up form knows whether to ask for an invite.
        api.MapGet("/auth/registration", (AuthService auth) => Results.Json(auth.Registration, json.RegistrationDto));

        var authed = api.MapGroup("").AddEndpointFilter<RequireDeviceFilter>();
        authed.MapPushApi(); // notifications: PushEndpoints
        authed.MapAdminApi(); // invites: AdminEndpoints
        authed.MapSearchApi();
        authed.MapPeopleApi(); // profile and security: PeopleEndpoints

        authed.MapPost("/auth/logout", async (HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.LogoutAsync(Http.BearerToken(http)!, Http.User(http), ct);
            return Results.NoContent();
        });
        authed.MapGet("/devices", async (HttpContext http, IUserStore users, ConnectionHub hub, TimeProvider time, CancellationToken ct) =>
        {
            var me = Http.User(http);
            var devices = await users.ListDevicesAsync(me.UserId, ct);
            var online = hub.DevicesOf(new UserId(me.UserId)).Select(d => d.DeviceId.Value).ToHashSet(StringComparer.Ordinal);
            return Results.Json(new DeviceList(devices.Select(d =>
                new DeviceDto(d.DeviceId, d.DeviceName, d.CreatedAt, online.Contains(d.DeviceId) ? Chat.Core.Domain.TimeProviderExtensions.NowMs(time) : d.LastActive, online.Contains(d.DeviceId), d.LastActive)).ToList()),
                json.DeviceList);
        });
        authed.MapDelete("/devices/{deviceId}", async (string deviceId, HttpContext http, AuthService auth, CancellationToken ct) =>
        {
            await auth.RevokeAsync(Http.User(http).UserId, deviceId, ct);
            return Results.NoContent();
        });

        authed.MapGet("/users/me", async (HttpContext http, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.GetMeAsync(Http.User(http).UserId, ct), json.MeDto));
        authed.MapGet("/limits", (Microsoft.Extensions.Options.IOptions<ChatOptions> options) =>
            Results.Json(new LimitsDto(options.Value.Limits.MaxContentBytes, options.Value.Limits.MaxFileBytes), json.LimitsDto));
        authed.MapGet("/users/{userId}", async (string userId, HttpContext http, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.GetUserAsync(Http.User(http).UserId, userId, ct), json.UserDto));
        authed.MapGet("/users", async (string? username, UserDirectory people, CancellationToken ct) =>
            Results.Json(await people.FindUsersAsync(username, ct), json.UserList));
        authed.MapGet("/presence", async (string? user_ids, HttpContext http, PresenceService presence, CancellationToken ct) =>
        {
            var ids = (user_ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            if (ids.Count == 0) throw ChatException.Invalid("user_ids is required.");
            if (ids.Count > 500) throw ChatException.Invalid("At most 500 user_ids.");
            return Results.Json(new PresenceList(await presence.GetAsync(Http.User(http).UserId, ids, ct)), json.PresenceList);
        });
        authed.MapGet("/users/{userId}/chats", async (string userId, int? limit, long? before, HttpContext http, ChatListService chats, CancellationToken ct) =>
        {
            if (userId != Http.User(http).UserId) throw ChatException.Forbidden("You can only list your own chats.");
            return Results.Json(await chats.ListChatsAsync(userId, limit, before, ct), json.ChatList);
        });

        authed.MapPost("/chats/direct", async (DirectChatRequest req, HttpContext http, ChatListService chats, CancellationToken ct) =>
            Results.Json(await chats.DirectChatAsync(Http.User(http).UserId, req.UserId, ct), json.ChatIdResponse));
        authed.MapGet("/chats/{chatId}/messages", async (string chatId, long? before, long? before_seq, long? after_seq, int? limit,
            HttpContext http, HistoryService history, CancellationToken ct) =>
            Results.Json(await history.GetHistoryAsync(new UserId(Http.User(http).UserId), chatId, before, before_seq, after_seq, limit, ct), json.MessagePage));
        authed.MapGet("/chats/{chatId}/receipts", async (string chatId, HttpContext http, ReadService reads, CancellationToken ct) =>
            Results.Json(await reads.GetReceiptsAsync(new UserId(Http.User(http).UserId), chatId, ct), json.ReceiptList));
        authed.MapPost("/chats/{chatId}/read", async (string chatId, ReadRequest req, HttpContext http, ReadService reads, CancellationToken ct) =>
        {
            var me = Http.User(http);
            await reads.ReadAsync(new UserId(me.UserId), new DeviceId(me.DeviceId), chatId, req.Seq, req.MessageId, NonMember.NotFound, ct);
            return Results.NoContent();
        });

        authed.MapMessageApi();

        authed.MapPost("/groups", async (CreateGroupRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.CreateAsync(Http.User(http).UserId, req, ct), json.GroupDto, statusCode: 201));
        authed.MapGet("/groups/{groupId}", async (string groupId, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.GetAsync(Http.User(http).UserId, groupId, ct), json.GroupDto));
        authed.MapPatch("/groups/{groupId}", async (string groupId, UpdateGroupRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.UpdateAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto));
        authed.MapPost("/groups/{groupId}/members", async (string groupId, AddMembersRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.AddMembersAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto));
        authed.MapDelete("/groups/{groupId}/members/{userId}", async (string groupId, string userId, HttpContext http, GroupService groups, CancellationToken ct) =>
        {
            await groups.RemoveMemberAsync(Http.User(http).UserId, groupId, userId, ct);
            return Results.NoContent();
        });
        authed.MapPost("/groups/{groupId}/admins", async (string groupId, AddMembersRequest req, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.AddAdminsAsync(Http.User(http).UserId, groupId, req, ct), json.GroupDto));
        authed.MapDelete("/groups/{groupId}/admins/{userId}", async (string groupId, string userId, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.RemoveAdminAsync(Http.User(http).UserId, groupId, userId, ct), json.GroupDto));
        authed.MapGet("/groups/{groupId}/events", async (string groupId, int? limit, long? after_seq, long? before_seq, HttpContext http, GroupService groups, CancellationToken ct) =>
            Results.Json(await groups.GetEventsAsync(Http.User(http).UserId, groupId, limit, after_seq, before_seq, ct), json.GroupEventsResponse));
    }
}
