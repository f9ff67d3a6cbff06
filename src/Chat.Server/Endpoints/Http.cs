using System.Text.Json;
using Chat.Core;
using Chat.Core.Auth;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>HTTP plumbing shared by the endpoints: bearer auth, errors as {code, error}.</summary>
internal static class Http
{
    public static string? BearerToken(HttpContext http)
    {
        string? header = http.Request.Headers.Authorization.FirstOrDefault();
        return header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The caller's address (the connection's peer), for per-address abuse limits.</summary>
    public static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static Task WriteError(HttpContext http, int status, string code, string message, int? retryAfterMs = null)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        if (retryAfterMs is int ms) http.Response.Headers.RetryAfter = ((ms + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return http.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(code, message, retryAfterMs), ChatJson.Default.ErrorBody)).AsTask();
    }

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.InvalidJson or ErrorCodes.InvalidRequest or ErrorCodes.GroupFull or ErrorCodes.UnknownType => 400,
        ErrorCodes.Unauthorized => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.NotFound => 404,
        ErrorCodes.Conflict => 409,
        ErrorCodes.ContentTooLarge or ErrorCodes.FileTooLarge => 413,
        ErrorCodes.RateLimited => 429,
        ErrorCodes.Unavailable => 503,
        _ => 500,
    };

    public static Principal User(HttpContext http) => (Principal)http.Items[typeof(Principal)]!;
}

/// <summary>Turns service failures and bad JSON into the contract's error bodies.</summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (ChatException ex) when (!http.Response.HasStarted)
        {
            await Http.WriteError(http, Http.StatusOf(ex.Code), ex.Code, ex.Message, ex.RetryAfterMs);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            bool json = ex.InnerException is JsonException || ex.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase);
            if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                await Http.WriteError(http, 413, ErrorCodes.ContentTooLarge, "The request body is too large.");
            else
                await Http.WriteError(http, 400, json ? ErrorCodes.InvalidJson : ErrorCodes.InvalidRequest, json ? "The body is not valid JSON of the expected shape." : "Bad request.");
        }
        catch (JsonException) when (!http.Response.HasStarted)
        {
            await Http.WriteError(http, 400, ErrorCodes.InvalidJson, "The body is not valid JSON of the expected shape.");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            LogUnhandled(log, http.Request.Method, http.Request.Path, ex);
            await Http.WriteError(http, 500, ErrorCodes.Internal, "Something went wrong on the server.");
        }
    }

    [LoggerMessage(3001, LogLevel.Error, "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception ex);
}

/// <summary>Requires a valid bearer token on a route group; the device is put in HttpContext.Items.</summary>
internal sealed class RequireDeviceFilter(AuthService auth) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var principal = await auth.AuthenticateAsync(Http.BearerToken(http), http.RequestAborted);
        if (principal is null)
            return Results.Json(new ErrorBody(ErrorCodes.Unauthorized, "A valid bearer token is required."), ChatJson.Default.ErrorBody, statusCode: 401);
        http.Items[typeof(Principal)] = principal;
        return await next(context);
    }
}
