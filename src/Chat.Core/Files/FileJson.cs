using System.Text.Json.Serialization;

namespace Chat.Core.Files;

/// <summary>The answer to a stored upload (<c>PUT {upload_url}</c> → 201).</summary>
public sealed record UploadedFile(string FileId, string FileName, string Type, long Size, bool HasThumbnail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UploadedFile))]
public sealed partial class FileJson : JsonSerializerContext;
