using Microsoft.Extensions.Options;

namespace Chat.Core.Files;

/// <summary>The start-up check of <see cref="FileServiceOptions"/> (Chat:Files), generated from its attributes.</summary>
[OptionsValidator]
public sealed partial class FileServiceOptionsValidator : IValidateOptions<FileServiceOptions>;
