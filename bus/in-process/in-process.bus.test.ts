import { silentLogger } from '../../kernel/logger.ts';
import { describeBusContract } from '../../test/contracts/bus.contract.ts';
import { createInProcessBus } from './in-process.bus.ts';

describeBusContract('in-process', async () => {
  const bus = createInProcessBus({ logger: silentLogger() });
  return { bus, teardown: () => bus.close() };
});
