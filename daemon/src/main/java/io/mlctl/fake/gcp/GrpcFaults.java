package io.mlctl.fake.gcp;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;

/**
 * {@link Faults} on the gRPC side: a failing rule ends the call with its status before the service
 * sees it; a dropping rule lets the service do the work and then ends the call UNAVAILABLE instead
 * of sending its answer. A {@link GoogleError} thrown by a service becomes its gRPC status.
 */
final class GrpcFaults implements ServerInterceptor {
    private final Faults faults;

    GrpcFaults(Faults faults) {
        this.faults = faults;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Optional<Faults.Rule> fault = faults.on("grpc " + call.getMethodDescriptor().getFullMethodName());
        if (fault.isPresent() && fault.get().kind() == Faults.Kind.ERROR) {
            io.grpc.StatusRuntimeException e = fault.get().error().grpcException(); // with ErrorInfo details, as Google sends them
            call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
            return new ServerCall.Listener<>() { };
        }
        boolean drop = fault.isPresent();
        ServerCall<Q, R> wrapped = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                if (!drop) super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                super.close(drop && status.isOk() ? Status.UNAVAILABLE.withDescription("fake: answer dropped") : status, trailers);
            }
        };
        return next.startCall(wrapped, headers);
    }
}
