using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>A REST call answered with an error body.</summary>
public sealed class ChatApiException(HttpStatusCode status, string code, string message) : Exception($"{(int)status} {code}: {message}")
{
    public HttpStatusCode Status { get; } = status;
    public string Code { get; } = code;
}

/// <summary>The REST half of the .NET SDK: one instance per signed-in device (its token).</summary>
public sealed class ChatApi(HttpClient http, string? token = null)
{
    private static readonly ChatJson Json = ChatJson.Default;

    public HttpClient Http { get; } = http;
    public string? Token { get; private set; } = token;
    public Uri BaseAddress => Http.BaseAddress!;

    public async Task<AuthResponse> RegisterAsync(string username, string password, string? displayName = null, string? deviceName = null, CancellationToken ct = default)
    {
        var auth = await SendAsync(HttpMethod.Post, "/api/auth/register", new RegisterRequest(username, password, displayName, deviceName), Json.RegisterRequest, Json.AuthResponse, ct, anonymous: true);
        Token = auth.Token;
        return auth;
    }

    public async Task<AuthResponse> LoginAsync(string username, string password, string? deviceName = null, CancellationToken ct = default)
    {
        var auth = await SendAsync(HttpMethod.Post, "/api/auth/login", new LoginRequest(username, password, deviceName), Json.LoginRequest, Json.AuthResponse, ct, anonymous: true);
        Token = auth.Token;
        return auth;
    }

    public Task LogoutAsync(CancellationToken ct = default) => SendNoContentAsync(HttpMethod.Post, "/api/auth/logout", ct);
    public Task<DeviceList> DevicesAsync(CancellationToken ct = default) => GetAsync("/api/devices", Json.DeviceList, ct);
    public Task RevokeDeviceAsync(string deviceId, CancellationToken ct = default) => SendNoContentAsync(HttpMethod.Delete, $"/api/devices/{deviceId}", ct);

    public Task<MeDto> MeAsync(CancellationToken ct = default) => GetAsync("/api/users/me", Json.MeDto, ct);
    public Task<UserDto> UserAsync(string userId, CancellationToken ct = default) => GetAsync($"/api/users/{Uri.EscapeDataString(userId)}", Json.UserDto, ct);
    public Task<UserList> FindUserAsync(string username, CancellationToken ct = default) => GetAsync($"/api/users?username={Uri.EscapeDataString(username)}", Json.UserList, ct);
    public Task<PresenceList> PresenceAsync(IEnumerable<string> userIds, CancellationToken ct = default) =>
        GetAsync($"/api/presence?user_ids={Uri.EscapeDataString(string.Join(',', userIds))}", Json.PresenceList, ct);

    public Task<ChatList> ChatsAsync(string userId, int? limit = null, long? before = null, CancellationToken ct = default) =>
        GetAsync($"/api/users/{userId}/chats?{Query(("limit", limit), ("before", before))}", Json.ChatList, ct);

    public Task<ChatIdResponse> DirectChatAsync(string userId, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "/api/chats/direct", new DirectChatRequest(userId), Json.DirectChatRequest, Json.ChatIdResponse, ct);

    public Task<MessagePage> HistoryAsync(string chatId, int? limit = null, long? before = null, long? beforeSeq = null, long? afterSeq = null, CancellationToken ct = default) =>
        GetAsync($"/api/chats/{chatId}/messages?{Query(("limit", limit), ("before", before), ("before_seq", beforeSeq), ("after_seq", afterSeq))}", Json.MessagePage, ct);

    public Task<ReceiptList> ReceiptsAsync(string chatId, CancellationToken ct = default) => GetAsync($"/api/chats/{chatId}/receipts", Json.ReceiptList, ct);

    public Task ReadAsync(string chatId, long seq, CancellationToken ct = default) =>
        SendNoContentAsync(HttpMethod.Post, $"/api/chats/{chatId}/read", ct, JsonContent.Create(new ReadRequest(seq), Json.ReadRequest));

    public Task<GroupDto> CreateGroupAsync(string name, IEnumerable<string> members, string? description = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "/api/groups", new CreateGroupRequest(name, description, members.ToList()), Json.CreateGroupRequest, Json.GroupDto, ct);
    public Task<GroupDto> GroupAsync(string groupId, CancellationToken ct = default) => GetAsync($"/api/groups/{groupId}", Json.GroupDto, ct);
    public Task<GroupDto> UpdateGroupAsync(string groupId, string? name, string? description = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Patch, $"/api/groups/{groupId}", new UpdateGroupRequest(name, description), Json.UpdateGroupRequest, Json.GroupDto, ct);
    public Task<GroupDto> AddMembersAsync(string groupId, IEnumerable<string> userIds, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"/api/groups/{groupId}/members", new AddMembersRequest(userIds.ToList()), Json.AddMembersRequest, Json.GroupDto, ct);
    public Task RemoveMemberAsync(string groupId, string userId, CancellationToken ct = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"/api/groups/{groupId}/members/{userId}", ct);

    public Task<UploadUrlResponse> UploadUrlAsync(string fileName, string fileType, long fileSize, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "/api/files/upload-url", new UploadUrlRequest(fileName, fileType, fileSize), Json.UploadUrlRequest, Json.UploadUrlResponse, ct);

    /// <summary>Uploads to a signed URL (no Authorization header: the signature is the permission).</summary>
    public async Task UploadAsync(string uploadUrl, HttpContent body, CancellationToken ct = default)
    {
        using var req = new HttpRequestMessage(HttpMethod.Put, uploadUrl) { Content = body };
        using var res = await Http.SendAsync(req, ct);
        await EnsureSuccessAsync(res, ct);
    }

    /// <summary>Sends a request with this device's token; for calls the SDK has no method for.</summary>
    public async Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, HttpContent? body = null, bool authorize = true, CancellationToken ct = default)
    {
        var req = new HttpRequestMessage(method, path) { Content = body };
        if (authorize && Token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await Http.SendAsync(req, ct);
    }

    private static string Query(params (string Name, object? Value)[] args) =>
        string.Join('&', args.Where(a => a.Value is not null).Select(a => $"{a.Name}={Uri.EscapeDataString(Convert.ToString(a.Value, System.Globalization.CultureInfo.InvariantCulture)!)}"));

    private async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var res = await RawAsync(HttpMethod.Get, path, ct: ct);
        await EnsureSuccessAsync(res, ct);
        return (await res.Content.ReadFromJsonAsync(type, ct))!;
    }

    private async Task<TOut> SendAsync<TIn, TOut>(HttpMethod method, string path, TIn body, JsonTypeInfo<TIn> inType, JsonTypeInfo<TOut> outType, CancellationToken ct, bool anonymous = false)
    {
        using var res = await RawAsync(method, path, JsonContent.Create(body, inType), authorize: !anonymous, ct);
        await EnsureSuccessAsync(res, ct);
        return (await res.Content.ReadFromJsonAsync(outType, ct))!;
    }

    private async Task SendNoContentAsync(HttpMethod method, string path, CancellationToken ct, HttpContent? body = null)
    {
        using var res = await RawAsync(method, path, body, ct: ct);
        await EnsureSuccessAsync(res, ct);
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage res, CancellationToken ct)
    {
        if (res.IsSuccessStatusCode) return;
        string code = "http_" + (int)res.StatusCode, message = res.ReasonPhrase ?? "";
        try
        {
            var err = await res.Content.ReadFromJsonAsync(Json.ErrorBody, ct);
            if (err is not null) (code, message) = (err.Code, err.Error);
        }
        catch (JsonException)
        {
        }
        throw new ChatApiException(res.StatusCode, code, message);
    }
}
