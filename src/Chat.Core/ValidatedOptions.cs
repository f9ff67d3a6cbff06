using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Chat.Core;

/// <summary>How every options section of the node is bound and checked (the host's and the adapters' alike).</summary>
public static partial class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and checks it at start-up with
    /// <typeparamref name="TValidator"/>, a source-generated <c>[OptionsValidator]</c> (it descends into
    /// <c>[ValidateObjectMembers]</c> sub-sections, which <c>ValidateDataAnnotations</c> does not). Failures name the
    /// configuration key, e.g. "The field Chat:Commit:MaxBatch must be between 1 and 100000.".
    /// Calling it again for the same options adds nothing.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>, new()
    {
        var builder = new OptionsBuilder<TOptions>(services, Options.DefaultName);
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<TOptions>) && d.ImplementationInstance is KeyNamingValidator<TOptions>))
            return builder;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new KeyNamingValidator<TOptions>(new TValidator(), section)));
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    // The result builder puts the member names in front ("MaxBatch: The field ..."); the message names the key already.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)*: ", RegexOptions.CultureInvariant)]
    private static partial Regex MemberPrefix();

    /// <summary>
    /// The generated validator names a member by its path under the name it is given ("Chat:Redis.KeyPrefix",
    /// "Chat.Commit.MaxBatch"); an operator needs the key ("Chat:Commit:MaxBatch").
    /// </summary>
    private sealed class KeyNamingValidator<TOptions>(IValidateOptions<TOptions> generated, string section) : IValidateOptions<TOptions>
        where TOptions : class
    {
        private readonly Regex _path = new(Regex.Escape(section) + @"(?:\.[A-Za-z_][A-Za-z0-9_]*)+", RegexOptions.CultureInvariant);

        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            // Only the default instance is bound from the section.
            if (name is not null && name != Options.DefaultName) return ValidateOptionsResult.Skip;
            var result = generated.Validate(section, options);
            if (!result.Failed) return result;
            return ValidateOptionsResult.Fail(result.Failures!.Select(f => _path.Replace(MemberPrefix().Replace(f, ""), m => m.Value.Replace('.', ':'))));
        }
    }
}
