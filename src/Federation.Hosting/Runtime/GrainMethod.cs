using System.Linq.Expressions;
using System.Reflection;
using Federation.Hosting.Telemetry;

namespace Federation.Hosting.Runtime;

/// <summary>
/// Dispatch metadata of one grain interface method for one grain type: interleaving flags, a compiled
/// invoker (no reflection on the hot path) and the method's statistics. Built once per host.
/// </summary>
internal abstract class GrainMethod
{
    protected GrainMethod(GrainClass grainClass, MethodInfo method, GrainTelemetry telemetry)
    {
        GrainClass = grainClass;
        Name = method.Name;
        ReadOnly = method.IsDefined(typeof(ReadOnlyAttribute), inherit: true);
        AlwaysInterleave = method.IsDefined(typeof(AlwaysInterleaveAttribute), inherit: true);
        StartsOnCallerThread = method.IsDefined(typeof(StartsOnCallerThreadAttribute), inherit: true);
        ReturnsValueTask = method.ReturnType == typeof(ValueTask) || (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(ValueTask<>));
        Statistics = telemetry.ForMethod(grainClass.TypeName, method.Name);
    }

    public GrainClass GrainClass { get; }

    public string Name { get; }

    public bool ReadOnly { get; }

    public bool AlwaysInterleave { get; }

    /// <summary>See <see cref="StartsOnCallerThreadAttribute"/>.</summary>
    public bool StartsOnCallerThread { get; }

    protected bool ReturnsValueTask { get; }

    public MethodStatistics Statistics { get; }

    /// <summary>Builds the message for one call; its task is what the caller awaits.</summary>
    public abstract Message CreateMessage(GrainId target, object?[] arguments, Message? parent);

    /// <summary>Turns the message's task into the interface method's return type (Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;).</summary>
    public abstract object ToReturnValue(Message message);

    /// <summary>Builds the (faulted) value returned to a caller whose call was refused before it was sent.</summary>
    public abstract object Refused(Exception exception);

    public static GrainMethod Create(GrainClass grainClass, MethodInfo interfaceMethod, GrainTelemetry telemetry)
    {
        if (interfaceMethod.IsGenericMethodDefinition || interfaceMethod.GetParameters().Any(p => p.ParameterType.IsByRef))
        {
            throw new ArgumentException($"grain method {interfaceMethod.DeclaringType?.Name}.{interfaceMethod.Name} is generic or has ref/out parameters: grain methods take plain arguments (they become a message)");
        }

        var returnType = interfaceMethod.ReturnType;
        Type? resultType = null;
        if (returnType.IsGenericType && (returnType.GetGenericTypeDefinition() == typeof(Task<>) || returnType.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            resultType = returnType.GetGenericArguments()[0];
        }
        else if (returnType != typeof(Task) && returnType != typeof(ValueTask))
        {
            throw new ArgumentException($"grain method {interfaceMethod.DeclaringType?.Name}.{interfaceMethod.Name} returns {returnType.Name}: grain methods return Task, Task<T>, ValueTask or ValueTask<T>");
        }

        var invoker = CompileInvoker(interfaceMethod, resultType);
        if (resultType is null)
        {
            return new VoidGrainMethod(grainClass, interfaceMethod, telemetry, (Func<object, object?[], Task>)invoker);
        }

        var type = typeof(ResultGrainMethod<>).MakeGenericType(resultType);
        return (GrainMethod)Activator.CreateInstance(type, grainClass, interfaceMethod, telemetry, invoker)!;
    }

    /// <summary>(grain, args) => ((TInterface)grain).Method((T0)args[0], …) as Task or Task&lt;T&gt; (ValueTask via AsTask).</summary>
    private static Delegate CompileInvoker(MethodInfo method, Type? resultType)
    {
        var grain = Expression.Parameter(typeof(object), "grain");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var parameters = method.GetParameters();
        var arguments = new Expression[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            arguments[i] = Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), parameters[i].ParameterType);
        }

        Expression call = Expression.Call(Expression.Convert(grain, method.DeclaringType!), method, arguments);
        if (method.ReturnType == typeof(ValueTask) || (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            call = Expression.Call(call, method.ReturnType.GetMethod(nameof(ValueTask.AsTask))!);
        }

        var taskType = resultType is null ? typeof(Task) : typeof(Task<>).MakeGenericType(resultType);
        var delegateType = typeof(Func<,,>).MakeGenericType(typeof(object), typeof(object?[]), taskType);
        return Expression.Lambda(delegateType, call, grain, args).Compile();
    }
}

internal sealed class VoidGrainMethod(GrainClass grainClass, MethodInfo method, GrainTelemetry telemetry, Func<object, object?[], Task> invoker)
    : GrainMethod(grainClass, method, telemetry)
{
    public override Message CreateMessage(GrainId target, object?[] arguments, Message? parent) =>
        new VoidMessage(this, target, arguments, parent, invoker);

    public override object ToReturnValue(Message message)
    {
        var task = ((VoidMessage)message).Task;
        return ReturnsValueTask ? new ValueTask(task) : task;
    }

    public override object Refused(Exception exception)
    {
        var task = Task.FromException(exception);
        return ReturnsValueTask ? new ValueTask(task) : task;
    }
}

internal sealed class ResultGrainMethod<TResult>(GrainClass grainClass, MethodInfo method, GrainTelemetry telemetry, Func<object, object?[], Task<TResult>> invoker)
    : GrainMethod(grainClass, method, telemetry)
{
    public override Message CreateMessage(GrainId target, object?[] arguments, Message? parent) =>
        new ResultMessage<TResult>(this, target, arguments, parent, invoker);

    public override object ToReturnValue(Message message)
    {
        var task = ((ResultMessage<TResult>)message).Task;
        return ReturnsValueTask ? new ValueTask<TResult>(task) : task;
    }

    public override object Refused(Exception exception)
    {
        var task = Task.FromException<TResult>(exception);
        return ReturnsValueTask ? new ValueTask<TResult>(task) : task;
    }
}
