//! placeholder
use yew::prelude::*;

#[function_component(App)]
fn app() -> Html {
    let counter = use_state(|| 0);
    html! { <button onclick={ { let c = counter.clone(); move |_| c.set(*c + 1) } }>{ *counter }</button> }
}

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<App>::new().render();
}
