using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>What messaging needs from the file service.</summary>
public interface IAttachments
{
    /// <summary>Throws a <see cref="ChatException"/> unless the user uploaded this file and the upload is complete.</summary>
    ValueTask EnsureAttachableAsync(string fileId, string userId, CancellationToken ct);

    /// <summary>The attachment as receivers see it, with signed expiring links under <paramref name="baseUrl"/>.</summary>
    ValueTask<AttachmentInfo?> DescribeAsync(string fileId, string baseUrl, CancellationToken ct);
}
