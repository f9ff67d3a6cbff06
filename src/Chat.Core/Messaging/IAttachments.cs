using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>What messaging needs from the file service.</summary>
public interface IAttachments
{
    /// <summary>Throws a <see cref="ChatException"/> unless the user uploaded this file and the upload is complete.</summary>
    ValueTask EnsureAttachableAsync(string fileId, string userId, CancellationToken ct);

    /// <summary>
    /// The attachment as receivers see it, with signed expiring links. The links start with the node's link origin
    /// (<see cref="Files.ILinkOrigin"/>: <c>Chat:PublicUrl</c>, else the node's own address), never with a request's host.
    /// </summary>
    ValueTask<AttachmentInfo?> DescribeAsync(string fileId, CancellationToken ct);
}
