using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>
/// What <c>GET /openapi/v1.json</c> says about each endpoint. The handlers return <c>Results.Json(value, typeInfo)</c>
/// (source-generated, as on the wire), which the generator cannot see through, so each endpoint declares its summary,
/// its success body and its main <c>{code, error}</c> answers here. Documentation only: nothing changes on the wire.
/// </summary>
internal static class OpenApiConventions
{
    private const string Json = "application/json";

    /// <summary>A success answer with a JSON body of <typeparamref name="T"/>, and the listed error statuses.</summary>
    public static RouteHandlerBuilder Returns<T>(this RouteHandlerBuilder endpoint, string summary, int status = StatusCodes.Status200OK, params int[] errors) =>
        endpoint.WithSummary(summary).Produces<T>(status, Json).Errors(errors);

    /// <summary>A success answer without a body (204, or 201 where the contract says so), and the listed error statuses.</summary>
    public static RouteHandlerBuilder ReturnsNothing(this RouteHandlerBuilder endpoint, string summary, int status = StatusCodes.Status204NoContent, params int[] errors) =>
        endpoint.WithSummary(summary).Produces(status).Errors(errors);

    /// <summary>A file's bytes (its own content type, any of them), and the listed error statuses.</summary>
    public static RouteHandlerBuilder ReturnsFile(this RouteHandlerBuilder endpoint, string summary, params int[] errors) =>
        endpoint.WithSummary(summary).Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream").Errors(errors);

    /// <summary>
    /// Declares <c>{code, error}</c> (<see cref="ErrorBody"/>) answers for these statuses; on a route group it applies to
    /// every endpoint in it (the authenticated group's 401).
    /// </summary>
    public static TBuilder Errors<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (int status in statuses)
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ErrorBody), [Json]));
        return builder;
    }
}
