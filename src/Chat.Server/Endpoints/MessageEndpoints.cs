using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>v1.1 rich-message reads (PROTOCOL.md "Revisions"): changes since a rev, one message, its edit history.</summary>
internal static class MessageEndpoints
{
    public static void MapMessageApi(this RouteGroupBuilder authed)
    {
        var json = ChatJson.Default;
        authed.MapGet("/chats/{chatId}/changes", async (string chatId, long? after_rev, int? limit, HttpContext http, MessageQueries queries, CancellationToken ct) =>
            Results.Json(await queries.GetChangesAsync(new UserId(Http.User(http).UserId), chatId, after_rev, limit, ct), json.ChangesPage))
            .Returns<ChangesPage>("The changes to a chat's messages since a revision.", errors: [400, 404]);
        authed.MapGet("/chats/{chatId}/messages/{messageId}", async (string chatId, string messageId, HttpContext http, MessageQueries queries, CancellationToken ct) =>
            Results.Json(await queries.GetMessageAsync(new UserId(Http.User(http).UserId), chatId, messageId, ct), json.MessageDto))
            .Returns<MessageDto>("One message of a chat.", errors: 404);
        authed.MapGet("/chats/{chatId}/messages/{messageId}/edits", async (string chatId, string messageId, HttpContext http, MessageQueries queries, CancellationToken ct) =>
            Results.Json(await queries.GetEditsAsync(new UserId(Http.User(http).UserId), chatId, messageId, ct), json.EditList))
            .Returns<EditList>("A message's edit history.", errors: 404);
    }
}
