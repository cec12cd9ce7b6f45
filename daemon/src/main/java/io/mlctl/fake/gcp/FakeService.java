package io.mlctl.fake.gcp;

import io.grpc.BindableService;
import java.util.List;

/** One Google API the fakes model: its REST routes, and its gRPC services where the client speaks gRPC. */
interface FakeService {
    void routes(FakeHttp http);

    default List<BindableService> grpc() {
        return List.of();
    }
}
