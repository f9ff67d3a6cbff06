using Chat.Core;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

/// <summary>
/// What the node is made of (Chat:Storage, Chat:Backplane, Chat:Blobs) and where its local data lives: read from the
/// configuration before the container is built, since it decides what gets registered. Everything else in
/// <see cref="ChatOptions"/> is bound and checked later, at start-up.
/// </summary>
internal sealed record SeamChoice(StorageProvider Storage, BackplaneProvider Backplane, BlobProvider Blobs, string DataDir)
{
    public static SeamChoice Read(IConfiguration config)
    {
        var chat = config.GetSection(ChatOptions.Section);
        var defaults = new ChatOptions();
        // Not a seam, but a mode name like the providers: checked here so "1" or a typo is one clear line too.
        Parse(chat.GetSection(nameof(ChatOptions.Auth)), nameof(AuthOptions.Registration), defaults.Auth.Registration);
        return new SeamChoice(
            Parse(chat, nameof(ChatOptions.Storage), defaults.Storage),
            Parse(chat, nameof(ChatOptions.Backplane), defaults.Backplane),
            Parse(chat, nameof(ChatOptions.Blobs), defaults.Blobs),
            chat[nameof(ChatOptions.DataDir)] ?? defaults.DataDir);
    }

    /// <summary>A connection string the chosen adapter cannot do without.</summary>
    public static string RequireConnectionString(IConfiguration config, string name, string missing)
    {
        string? value = config.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value)) throw Invalid(missing);
        return value;
    }

    /// <summary>
    /// A provider by name, case-insensitively ("sqlite", "Postgres"). Only names: the configuration binder would also
    /// take "1" or "sqlite,postgres", which say nothing an operator meant.
    /// </summary>
    private static T Parse<T>(IConfigurationSection chat, string key, T fallback) where T : struct, Enum
    {
        string? raw = chat[key];
        if (raw is null) return fallback;
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(value.ToString(), raw.Trim(), StringComparison.OrdinalIgnoreCase)) return value;
        }
        string names = string.Join(" or ", Enum.GetNames<T>().Select(n => $"'{n.ToLowerInvariant()}'"));
        throw Invalid($"{chat.Path}:{key} must be {names} (got '{raw}').");
    }

    private static OptionsValidationException Invalid(string message) =>
        new(ChatOptions.Section, typeof(ChatOptions), [message]);
}
