import NIOPosix
import Testing

@testable import SwitchyardServer

/// `HeavyWork`: where large CPU-bound steps run.
@Suite("Heavy work off the event loops")
struct HeavyWorkTests {
    @Test("Large inputs are worked on off the event loop, small ones in place; the caller resumes on its loop")
    func offLoop() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let task = Task(executorPreference: EventLoopExecutor.of(loop)) {
            let small = await HeavyWork.run(bytes: HeavyWork.offLoopBytes - 1) { loop.inEventLoop }
            let large = await HeavyWork.run(bytes: HeavyWork.offLoopBytes) { loop.inEventLoop }
            return [loop.inEventLoop, small, large, loop.inEventLoop]
        }
        #expect(await task.value == [true, true, false, true])
    }
}
