using Chat.Core.Domain;
using Chat.Core.Search;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>Search (PROTOCOL.md v1.1, "Search"): messages of the caller's chats, and people.</summary>
internal static class SearchEndpoints
{
    public static void MapSearchApi(this IEndpointRouteBuilder authed)
    {
        var json = ChatJson.Default;
        authed.MapGet("/search", async (string? q, string? chat_id, long? before, int? limit, HttpContext http, SearchService search, CancellationToken ct) =>
            Results.Json(await search.SearchMessagesAsync(new UserId(Http.User(http).UserId), q, chat_id, before, limit, ct), json.SearchResults))
            .Returns<SearchResults>("Searches the messages of the caller's chats.", errors: 400);
        authed.MapGet("/users/search", async (string? q, int? limit, SearchService search, CancellationToken ct) =>
            Results.Json(await search.SearchUsersAsync(q, limit, ct), json.UserList))
            .Returns<UserList>("Finds users by username or display name prefix.", errors: 400);
    }
}
