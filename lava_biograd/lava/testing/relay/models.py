"""Floating-point ProcessModel of :class:`RecvFirstRelay`."""

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_biograd.lava.testing.relay.process import RecvFirstRelay


@implements(proc=RecvFirstRelay, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyRecvFirstRelayModel(PyLoihiProcessModel):
    """Forward ``a_in`` to ``s_out``, receiving first."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def run_spk(self) -> None:
        self.s_out.send(self.a_in.recv())
