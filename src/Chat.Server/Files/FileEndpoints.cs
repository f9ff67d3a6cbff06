using Chat.Core;
using Chat.Core.Protocol;
using Chat.Core.Services;

namespace Chat.Server.Files;

// Placeholder wiring: the file service (issue 5) replaces this with signed uploads, a blob store and thumbnails.
internal static class FileEndpoints
{
    public static IServiceCollection AddChatFiles(this IServiceCollection services, ChatOptions chat)
    {
        services.AddSingleton<IAttachments, FileService>();
        return services;
    }

    public static void MapChatFiles(this IEndpointRouteBuilder app)
    {
    }
}

internal sealed class FileService : IAttachments
{
    public ValueTask EnsureAttachableAsync(string fileId, string userId, CancellationToken ct) =>
        throw ChatException.NotFound("File");

    public ValueTask<AttachmentInfo?> DescribeAsync(string fileId, string baseUrl, CancellationToken ct) =>
        ValueTask.FromResult<AttachmentInfo?>(null);
}
